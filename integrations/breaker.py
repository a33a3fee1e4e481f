"""A circuit breaker per project: when Qonversion keeps failing for one project, stop
calling it for that project for a while, instead of making every page, action and sync
wait for the same timeout again.

After QONADMIN_BREAKER_FAILURES consecutive failures (no connection, a timeout, a 5xx)
calls for the project stop for QONADMIN_BREAKER_COOLOFF_SECONDS. When the cool-off ends,
the next call is a trial: if it fails too, the cool-off doubles (up to
QONADMIN_BREAKER_MAX_COOLOFF_SECONDS); any answer from Qonversion closes the breaker.
"Try now" ends the cool-off at once. State lives on the project row, so every web
process and worker shares it, and one project's breaker never touches another's.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.qonversion import QonversionError, QonversionServerError, QonversionUnreachable
from teams.models import Project

logger = logging.getLogger(__name__)


class QonversionNotAnswering(QonversionError):
    """The breaker is open for this project: nothing was sent to Qonversion."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"Qonversion is not answering for this project; next try at {until:%H:%M} UTC")
        self.until = until


def counts_as_failure(error: QonversionError) -> bool:
    """Failures that say Qonversion is not working; a refusal (4xx) is an answer."""
    return isinstance(error, QonversionUnreachable | QonversionServerError)


def paused_until(project: Project, *, now: datetime | None = None) -> datetime | None:
    """Until when calls for `project` are held back, as its row says now; None if they are not."""
    row = Project.objects.filter(pk=project.pk).values_list("upstream_paused_until", "upstream_failures").first()
    until, project.upstream_failures = row or (None, 0)
    project.upstream_paused_until = until
    if until is None or until <= (now or timezone.now()):
        return None
    return until


def check(project: Project) -> None:
    """Raise QonversionNotAnswering while the breaker is open for `project`."""
    until = paused_until(project)
    if until is not None:
        raise QonversionNotAnswering(until)


def cooloff(consecutive_failures: int) -> timedelta:
    doublings = max(0, consecutive_failures - settings.QONADMIN_BREAKER_FAILURES)
    seconds = settings.QONADMIN_BREAKER_COOLOFF_SECONDS * 2 ** min(doublings, 20)
    return timedelta(seconds=min(seconds, settings.QONADMIN_BREAKER_MAX_COOLOFF_SECONDS))


def record_failure(project: Project) -> None:
    with transaction.atomic():
        Project.objects.filter(pk=project.pk).update(upstream_failures=F("upstream_failures") + 1)
        failures = Project.objects.filter(pk=project.pk).values_list("upstream_failures", flat=True).first() or 0
        if failures >= settings.QONADMIN_BREAKER_FAILURES:
            until = timezone.now() + cooloff(failures)
            Project.objects.filter(pk=project.pk).update(upstream_paused_until=until)
            project.upstream_paused_until = until
            logger.warning(
                "qonversion failed %d times in a row for project %s: no calls until %s", failures, project.pk, until
            )
    project.upstream_failures = failures


def record_success(project: Project) -> None:
    if project.upstream_failures or project.upstream_paused_until:
        Project.objects.filter(pk=project.pk).update(upstream_failures=0, upstream_paused_until=None)
    project.upstream_failures, project.upstream_paused_until = 0, None


def try_now(project: Project) -> None:
    """End the cool-off: the next call is made. If it fails, the breaker opens again."""
    Project.objects.filter(pk=project.pk).update(upstream_paused_until=None)
    project.upstream_paused_until = None
