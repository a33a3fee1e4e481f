"""When each project is refreshed in the background, on the task engine.

Every project has `next_sync_at`. `enqueue_due_syncs` claims each due project with one
conditional UPDATE (moving `next_sync_at` on) and enqueues one `sync_project` task for
it, so however many schedulers run at once, a due project is enqueued once. After the
sync, the task sets the next time:
- success: now + QONADMIN_SYNC_INTERVAL_SECONDS;
- 429: now + Retry-After (at least the interval), without touching other projects;
- the key refused (401/403): the interval doubled for each refusal in a row, up to an
  hour, so a revoked key is not retried every minute (the page says when);
- the circuit breaker open: when it lets the next call through;
- anything else: the interval (the breaker slows a failing Qonversion down).

The schedule's tick is a task that re-enqueues itself every TICK; a singleton row
(SyncSchedule) lets exactly one chain of ticks live, so starting it from every
instance (`manage.py sync_integrations --schedule`, done by `make run`) is safe.
Instead, cron may run `manage.py sync_integrations` every minute.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts import services as alerts
from integrations import breaker
from integrations.errors import IntegrationError
from integrations.models import SyncSchedule
from integrations.sync import SyncResult, project_sync
from teams.models import Project

logger = logging.getLogger(__name__)

TICK = timedelta(seconds=10)
MAX_KEY_BACKOFF = timedelta(hours=1)
PRUNE_EVERY = timedelta(hours=1)


def interval() -> timedelta:
    return timedelta(seconds=settings.QONADMIN_SYNC_INTERVAL_SECONDS)


def _due(now: datetime) -> Q:
    return Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now)


def claim_due_projects(*, now: datetime, project_ids: list[int] | None = None, everything: bool = False) -> list[int]:
    """Claim the due projects (all of `project_ids`, or every one with `everything`):
    each is claimed by one caller only, however many run at once."""
    projects = Project.objects.all()
    if project_ids is not None:
        projects = projects.filter(pk__in=project_ids)
    if not everything:
        # The breaker's cool-off is respected: the project's next try is when it ends.
        projects = projects.filter(_due(now)).exclude(upstream_paused_until__gt=now)
    claimed = []
    for pk in projects.order_by("next_sync_at").values_list("pk", flat=True):
        condition = Q(pk=pk) if everything else Q(pk=pk) & _due(now)
        # Until the task sets the real next time: an interval, so a lost task is redone.
        if Project.objects.filter(condition).update(next_sync_at=now + interval(), sync_requested_at=now):
            claimed.append(pk)
    return claimed


def enqueue_due_syncs(
    *, now: datetime | None = None, project_ids: list[int] | None = None, everything: bool = False
) -> list[int]:
    """Enqueue one sync task per claimed project; returns their ids."""
    from integrations.tasks import sync_project  # tasks import this module

    now = now or timezone.now()
    with transaction.atomic():
        claimed = claim_due_projects(now=now, project_ids=project_ids, everything=everything)
        for pk in claimed:
            sync_project.enqueue(pk, now.isoformat())
    return claimed


def run_sync(project: Project, *, asked_at: datetime) -> str:
    """One scheduled (or asked-for) sync of `project`, then its next time. Returns what
    happened, for the task's result."""
    if project.sync_attempted_at is not None and project.sync_attempted_at >= asked_at:
        return "already refreshed since it was asked for"
    now = timezone.now()
    try:
        result: SyncResult = project_sync(project=project)
    except IntegrationError as error:
        next_at, refusals = _after_failure(project, error, now)
        Project.objects.filter(pk=project.pk).update(next_sync_at=next_at, key_refusals=refusals)
        logger.info("sync of project %s failed; next try at %s", project.pk, next_at)
        return f"failed: {error}"
    if result.skipped:
        return "another refresh was under way"
    Project.objects.filter(pk=project.pk).update(next_sync_at=now + interval(), key_refusals=0)
    return f"refreshed: {result.total} listed, {result.added} added, {result.updated} updated, {result.removed} gone"


def _after_failure(project: Project, error: IntegrationError, now: datetime) -> tuple[datetime, int]:
    if error.key_rejected:
        refusals = project.key_refusals + 1
        return now + min(interval() * 2 ** min(refusals - 1, 12), MAX_KEY_BACKOFF), refusals
    if error.retry_after is not None:
        return now + max(interval(), timedelta(seconds=error.retry_after)), project.key_refusals
    paused_until = breaker.paused_until(project, now=now)
    if paused_until is not None:
        return paused_until, project.key_refusals
    return now + interval(), project.key_refusals


def tick(*, now: datetime | None = None) -> bool:
    """One beat of the schedule: if this chain owns the beat, enqueue the next beat and
    the due syncs (and the history pruning once an hour). False: another chain owns it."""
    from integrations.tasks import prune_history_task, schedule_tick

    now = now or timezone.now()
    with transaction.atomic():
        SyncSchedule.objects.get_or_create(pk=1)
        owns = (
            SyncSchedule.objects.filter(pk=1)
            .filter(Q(next_tick_at__isnull=True) | Q(next_tick_at__lte=now + timedelta(seconds=1)))
            .update(next_tick_at=now + TICK)
        )
        if not owns:
            return False
        # Enqueued in the same transaction as the claim: the chain cannot break between them.
        schedule_tick.using(run_after=now + TICK).enqueue()
        prune_due = SyncSchedule.objects.filter(pk=1).filter(
            Q(last_pruned_at__isnull=True) | Q(last_pruned_at__lte=now - PRUNE_EVERY)
        )
        if prune_due.update(last_pruned_at=now):
            prune_history_task.enqueue()
    enqueue_due_syncs(now=now)
    alerts.requeue_stranded_deliveries(now=now)
    return True


def start_schedule() -> None:
    """Make sure a chain of ticks runs: enqueue a beat now (a second chain dies at once)."""
    from integrations.tasks import schedule_tick

    schedule_tick.enqueue()
