"""An integration's history, read for the pages: the audit events about it, the record
of its health (IntegrationChange rows, written by the sync and the status actions) and
what the pages derive from that record, its pruning, and when a project's mirror is stale.

Everything shown here is what qonadmin itself saw and when: "in Error since" is the time
a sync or an action recorded the change into Error, never a timestamp Qonversion sent.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Case, DateTimeField, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from audit.models import AuditEvent, Outcome
from audit.services import record
from integrations.models import Integration, IntegrationChange, Status
from teams.models import Project

# ---- audit events about one integration -------------------------------------------------


def record_for_integration(
    integration: Integration,
    *,
    action: str,
    actor: User | AnonymousUser | None,
    outcome: Outcome,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """An event about one integration, found later by its Qonversion id (its history)."""
    return record(
        action=action,
        actor=actor,
        outcome=outcome,
        project=integration.project,
        target_type="integration",
        target_id=integration.qonversion_id,
        target_repr=integration.title,
        detail=detail,
        ip=ip,
    )


def integration_history(integration: Integration, *, limit: int = 50) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        project_id=integration.project_id, target_type="integration", target_id=integration.qonversion_id
    ).order_by("-created_at", "-pk")[:limit]


# ---- pruning ----------------------------------------------------------------------------

# Rows deleted per statement: each batch is its own short statement (and, outside a
# transaction, its own commit), so pruning a large table never holds locks for long.
PRUNE_BATCH_SIZE = 1000


def prune_history(*, now: datetime | None = None) -> int:
    """Delete health history older than QONADMIN_HISTORY_DAYS, in batches; returns how
    many rows went. Meant to run outside a transaction (a scheduled task)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.QONADMIN_HISTORY_DAYS)
    deleted = 0
    while True:
        batch = list(IntegrationChange.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:PRUNE_BATCH_SIZE])
        if not batch:
            return deleted
        count, _ = IntegrationChange.objects.filter(pk__in=batch).delete()
        deleted += count


# ---- in Error since ---------------------------------------------------------------------

# A change into Error that qonadmin watched happen: from Active or Paused. A first sighting
# already in Error (previous_status "") is not one: it may have broken long before.
_ENTERED_ERROR = Q(status=Status.ERROR, previous_status__in=(Status.ACTIVE, Status.PAUSED))


def error_since() -> Case:
    """An annotation for Integration querysets: for a row in Error, when its latest change
    into Error was recorded; None for other rows, and when that change is not in the
    kept history (pruned, or first seen already in Error)."""
    latest_entry = (
        IntegrationChange.objects.filter(_ENTERED_ERROR, integration=OuterRef("pk"))
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    return Case(
        When(status=Status.ERROR, then=Subquery(latest_entry)),
        default=Value(None),
        output_field=DateTimeField(),
    )


def error_since_for(integrations: Iterable[Integration]) -> dict[int, datetime | None]:
    """`error_since` for integrations fetched without it, in one query."""
    ids = [integration.pk for integration in integrations]
    if not ids:
        return {}
    rows = Integration.objects.filter(pk__in=ids).annotate(since=error_since()).values_list("pk", "since")
    return dict(rows)


# ---- delivery errors over time (the sparklines) -----------------------------------------


@dataclass(frozen=True)
class Window:
    """A stretch of time ending now, cut into equal buckets (the bars of a sparkline)."""

    label: str  # "24 h"
    buckets: int
    bucket: timedelta
    bucket_name: str  # "hour": "most 5 in one hour"

    @property
    def span(self) -> timedelta:
        return self.bucket * self.buckets


LAST_24_HOURS = Window("24 h", 24, timedelta(hours=1), "hour")
LAST_7_DAYS = Window("7 d", 7, timedelta(days=1), "day")


@dataclass(frozen=True)
class ErrorSeries:
    """Delivery errors per bucket of a window, oldest bucket first."""

    window: Window
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def peak(self) -> int:
        return max(self.counts, default=0)

    @property
    def summary(self) -> str:
        """E.g. "Delivery errors, last 24 h: 12 in total, most 5 in one hour"."""
        if not self.total:
            return f"Delivery errors, last {self.window.label}: none"
        return (
            f"Delivery errors, last {self.window.label}: {self.total} in total, "
            f"most {self.peak} in one {self.window.bucket_name}"
        )

    @property
    def per_bucket(self) -> str:
        """The values themselves, as text: "Per hour, oldest first: 0, 0, 2, 9"."""
        return f"Per {self.window.bucket_name}, oldest first: " + ", ".join(str(n) for n in self.counts)


def bucket_errors(points: Iterable[tuple[datetime, int]], window: Window, *, now: datetime) -> ErrorSeries:
    """Delivery errors per bucket from one integration's changes inside the window,
    `points` being their (at, errors_added): an increase belongs to the bucket of the
    change that recorded it (how a change's errors are counted: mirror.errors_added).
    What is shown is therefore at least what happened, exactly when every sync sees
    every reset."""
    start = now - window.span
    counts = [0] * window.buckets
    for at, added in points:
        if added and at >= start:
            counts[min(int((at - start) / window.bucket), window.buckets - 1)] += added
    return ErrorSeries(window, tuple(counts))


def no_errors(windows: Sequence[Window]) -> tuple[ErrorSeries, ...]:
    """The series of an integration without history in `windows`."""
    return tuple(ErrorSeries(window, (0,) * window.buckets) for window in windows)


def error_series_for(
    integrations: Collection[int] | QuerySet[Integration],
    windows: Sequence[Window] = (LAST_24_HOURS,),
    *,
    now: datetime | None = None,
) -> dict[int, tuple[ErrorSeries, ...]]:
    """For each integration, its series over each of `windows` (in that order), in one
    query whatever their number: the changes inside the longest window, each with the
    errors it added (so nothing before the window is read).

    `integrations` are ids, or a queryset (the list's own: a long list is not sent back
    to the database as thousands of ids). Every id given is in the result; from a
    queryset, integrations without any history are left out (`no_errors` is theirs)."""
    now = now or timezone.now()
    if not windows:
        return {}
    chosen: QuerySet[Integration, int] | list[int]
    if isinstance(integrations, QuerySet):
        chosen = integrations.values_list("pk", flat=True)
        points: dict[int, list[tuple[datetime, int]]] = {}
    else:
        chosen = list(integrations)
        if not chosen:
            return {}
        points = {pk: [] for pk in chosen}
    start = now - max(window.span for window in windows)
    rows = IntegrationChange.objects.filter(integration__in=chosen, at__gte=start, errors_added__gt=0).values_list(
        "integration_id", "at", "errors_added"
    )
    for integration_id, at, added in rows:
        points.setdefault(integration_id, []).append((at, added))
    quiet = no_errors(windows)  # most rows: one shared value
    return {
        pk: tuple(bucket_errors(history, window, now=now) for window in windows) if history else quiet
        for pk, history in points.items()
    }


# ---- what the project page and the details row show -------------------------------------


@dataclass(frozen=True)
class RowHealth:
    """A list row's health: since when it is in Error (None: not in Error, or unknown)
    and its delivery errors over the last 24 h."""

    error_since: datetime | None
    last_24h: ErrorSeries


def row_health(
    rows: Sequence[Integration], *, shown: QuerySet[Integration] | None = None, now: datetime | None = None
) -> dict[int, RowHealth]:
    """Health of the list's rows, by id, in one query whatever their number: `shown` is
    the queryset the rows came from (its `error_since` annotation is on the rows).
    Rows fetched otherwise (one after an action) cost one more query for error_since."""
    series = error_series_for(shown if shown is not None else [row.pk for row in rows], (LAST_24_HOURS,), now=now)
    since: dict[int, datetime | None] = {row.pk: getattr(row, "error_since", None) for row in rows}
    unannotated = [row for row in rows if not hasattr(row, "error_since") and row.status == Status.ERROR]
    since.update(error_since_for(unannotated))
    quiet = no_errors((LAST_24_HOURS,))
    return {row.pk: RowHealth(error_since=since[row.pk], last_24h=series.get(row.pk, quiet)[0]) for row in rows}


def timeline(integration: Integration, *, limit: int = 50) -> QuerySet[IntegrationChange]:
    """The integration's changes of status (and its first sighting), newest first."""
    return integration.changes.exclude(status=F("previous_status")).order_by("-at", "-pk")[:limit]


@dataclass(frozen=True)
class IntegrationHealth:
    """What the details row shows about an integration's health over time."""

    last_24h: ErrorSeries
    last_7d: ErrorSeries
    transitions: list[IntegrationChange]
    kept_days: int  # how far back the history goes (QONADMIN_HISTORY_DAYS)


def integration_health(integration: Integration, *, now: datetime | None = None) -> IntegrationHealth:
    """Both sparklines and the timeline of one integration (two queries)."""
    last_24h, last_7d = error_series_for([integration.pk], (LAST_24_HOURS, LAST_7_DAYS), now=now)[integration.pk]
    return IntegrationHealth(
        last_24h=last_24h,
        last_7d=last_7d,
        transitions=list(timeline(integration)),
        kept_days=settings.QONADMIN_HISTORY_DAYS,
    )


# ---- stale mirrors ----------------------------------------------------------------------

# A project whose mirror has not been refreshed for this many sync intervals is stale.
STALE_AFTER_INTERVALS = 3


@dataclass(frozen=True)
class Staleness:
    """Why a project's list may be out of date: when it was last refreshed (None: never),
    how many sync intervals ago, and the last upstream failure in words ("" if none)."""

    since: datetime | None
    intervals: int
    reason: str


def staleness(project: Project, *, now: datetime | None = None) -> Staleness | None:
    """None while the project's mirror is fresh; stale once QONADMIN_SYNC_INTERVAL_SECONDS
    × STALE_AFTER_INTERVALS have passed since its last successful refresh (or, never
    refreshed, since the project was added). No query."""
    interval = timedelta(seconds=settings.QONADMIN_SYNC_INTERVAL_SECONDS)
    age = (now or timezone.now()) - (project.synced_at or project.created_at)
    if age <= interval * STALE_AFTER_INTERVALS:
        return None
    return Staleness(since=project.synced_at, intervals=age // interval, reason=project.sync_error)
