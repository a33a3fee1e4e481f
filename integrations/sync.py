"""Refreshing a project's mirror from GET /v4/integrations, and its history of changes.

New upstream records are added, changed ones updated, and records no longer listed
are marked deleted. A deleted row stays deleted whatever a list still shows, unless
the id now names another record (Qonversion handed the id out again): then the row
shows that record (docs/mirror-rules.md). Each change of an integration's health is one history row; an
integration entering or leaving Error is told to alerts once the rows are committed.
A failure is kept on the project (shown as "Could not refresh…") and raised; the last
known rows stay as they were. Only one refresh of a project talks to Qonversion at a
time; others return at once (`skipped`) instead of queueing behind a slow Qonversion.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts import services as alerts
from audit.models import Outcome
from integrations.catalog import Catalog, cached_catalog, get_catalog
from integrations.clients import client_for_project
from integrations.errors import UpstreamError
from integrations.explain import reason
from integrations.history import record_for_integration
from integrations.mirror import MIRRORED_FIELDS, PENDING_FIELDS, change_of, health_changed, mirror_values
from integrations.models import Integration, IntegrationChange, Status
from integrations.qonversion import QonversionError, RemoteIntegration
from teams.models import Project

logger = logging.getLogger(__name__)

# Said (audit detail "note") whenever a row is given to a new record that reuses its id.
ID_REUSED_NOTE = "id reused by Qonversion: shown with Qonversion's current values"
# What never changes in one Qonversion record (v4 has no update endpoint, §12.2).
_IDENTITY_FIELDS = ("upstream_created_at", "title", "provider_name", "platform")


def is_same_record(row: Integration, values: Mapping[str, object]) -> bool:
    """Whether Qonversion's answer (as mirror `values`) is the record `row` mirrors.

    One record keeps its creation time, title, provider and platform; a replayed create
    answers with the first response, so it matches too. Anything else under the same id
    is another record: Qonversion handed the id out again."""
    return all(getattr(row, name) == values[name] for name in _IDENTITY_FIELDS)


def id_reuse_detail(row: Integration) -> dict[str, object]:
    """Audit detail naming the record that had the id before (read before it is replaced)."""
    return {
        "note": ID_REUSED_NOTE,
        "previous": {
            "title": row.title,
            "provider": row.provider_name,
            "platform": row.platform,
            "created_at": row.upstream_created_at.isoformat(),
            "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
        },
    }


def take_over_row(row: Integration, values: Mapping[str, object]) -> None:
    """Give `row` to the new record that reuses its id: Qonversion's values, not deleted,
    nothing pending, nobody recorded as its creator yet (not saved)."""
    for name, value in values.items():
        setattr(row, name, value)
    row.deleted_at = row.deleted_by = row.created_by = None
    row.pending_status, row.pending_since = "", None


TAKEN_OVER_FIELDS = (*MIRRORED_FIELDS, *PENDING_FIELDS, "deleted_at", "deleted_by", "created_by")


@dataclass(frozen=True)
class SyncResult:
    added: int
    updated: int
    removed: int
    total: int
    newly_broken: int = 0
    # Another refresh of this project was already talking to Qonversion: this one
    # made no call and changed nothing (the other one's result will show).
    skipped: bool = False


@dataclass
class _Plan:
    """What one list means for the mirror."""

    to_create: list[Integration] = field(default_factory=list)
    to_update: list[Integration] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    newly_broken: list[Integration] = field(default_factory=list)
    # (row, status before, delivery error count before); "" and None for a first sighting.
    changes: list[tuple[Integration, str, int | None]] = field(default_factory=list)
    reused: list[tuple[Integration, dict[str, object]]] = field(default_factory=list)  # (row, audit detail)
    alerting: set[str] = field(default_factory=set)  # ids whose change is a transition to tell


def project_sync(*, project: Project) -> SyncResult:
    """Refresh the mirror of `project`; raises UpstreamError when Qonversion fails."""
    attempted_at = timezone.now()
    if not _claim_sync(project, attempted_at):
        return SyncResult(added=0, updated=0, removed=0, total=0, skipped=True)
    try:
        remote_items, catalog = _fetch(project, attempted_at)
        return _apply(project, remote_items, catalog, fetched_at=attempted_at)
    finally:
        Project.objects.filter(pk=project.pk, sync_started_at=attempted_at).update(sync_started_at=None)


def _claim_sync(project: Project, now: datetime) -> bool:
    """Mark `project` as being refreshed, unless another refresh is at it right now.
    A claim older than the bound on waiting is from a refresh that died: taken over."""
    stale = now - timedelta(seconds=settings.QONVERSION_DEADLINE_SECONDS + 5)
    unclaimed = Q(sync_started_at__isnull=True) | Q(sync_started_at__lt=stale)
    return bool(Project.objects.filter(unclaimed, pk=project.pk).update(sync_started_at=now))


def _fetch(project: Project, attempted_at: datetime) -> tuple[list[RemoteIntegration], Catalog | None]:
    try:
        remote_items = client_for_project(project).list_integrations()
        try:
            catalog: Catalog | None = get_catalog(project)
        except UpstreamError:
            catalog = cached_catalog(project)  # provider slugs are a nicety, not worth failing a sync
    except QonversionError as error:
        why = reason(error)
        Project.objects.filter(pk=project.pk).update(sync_attempted_at=attempted_at, sync_error=why)
        project.sync_attempted_at, project.sync_error = attempted_at, why
        logger.warning("sync of project %s failed: %s", project.pk, error.as_dict())
        raise UpstreamError(error) from error
    return remote_items, catalog


def _settle_pending(row: Integration, remote: RemoteIntegration, now: datetime) -> dict[str, object]:
    """A change waiting for confirmation is settled when the list shows the state asked
    for, or, failing that, once the confirmation window has passed (then the listed
    state is what holds)."""
    if not row.pending_status:
        return {}
    window = timedelta(seconds=settings.QONADMIN_CONFIRM_WINDOW_SECONDS)
    if remote.status == row.pending_status or row.pending_since is None or row.pending_since < now - window:
        return {"pending_status": "", "pending_since": None}
    return {}


def _plan_id_reuse(plan: _Plan, row: Integration, values: dict[str, object], *, alert: bool) -> None:
    plan.reused.append((row, id_reuse_detail(row)))
    take_over_row(row, values)
    plan.changes.append((row, "", None))
    if alert:  # listed in Error at first sight, as for any new record
        plan.alerting.add(row.qonversion_id)
        plan.newly_broken.append(row)


def _plan(
    project: Project,
    existing: dict[str, Integration],
    remote_items: list[RemoteIntegration],
    catalog: Catalog | None,
    *,
    fetched_at: datetime,
    now: datetime,
) -> _Plan:
    plan = _Plan()
    watched_before = project.synced_at is not None
    for remote in remote_items:
        values = mirror_values(remote, catalog, now)
        row = existing.pop(remote.id, None)
        if row is not None and row.synced_at > fetched_at:
            continue  # written by an action after our list was taken (newer than this list)
        if row is not None and row.deleted_at is not None:
            # Deletion in Qonversion is permanent, whatever a list still shows (Qonversion
            # may list soft-deleted records): the row stays deleted, unless the id now
            # names another record, which is new to us.
            if not is_same_record(row, values):
                _plan_id_reuse(plan, row, values, alert=remote.status == Status.ERROR and watched_before)
            continue
        broke = remote.status == Status.ERROR and (row.status != Status.ERROR if row else watched_before)
        recovered = row is not None and row.status == Status.ERROR and remote.status != Status.ERROR
        if broke or recovered:
            plan.alerting.add(remote.id)
        if row is None:
            plan.to_create.append(Integration(project=project, qonversion_id=remote.id, **values))
            plan.changes.append((plan.to_create[-1], "", None))
            if broke:
                plan.newly_broken.append(plan.to_create[-1])
            continue
        if broke:
            plan.newly_broken.append(row)
        if not values["provider_slug"]:
            values["provider_slug"] = row.provider_slug  # keep what we knew at create time
        values.update(_settle_pending(row, remote, now))
        if health_changed(row, values):
            plan.changes.append((row, row.status, row.delivery_error_count))
        # Write only rows that changed, so a quiet sync is a handful of queries.
        if any(getattr(row, name) != value for name, value in values.items() if name != "synced_at"):
            for name, value in values.items():
                setattr(row, name, value)
            plan.to_update.append(row)
    # Not listed: gone upstream, unless created here after our list was taken.
    plan.gone = [row.pk for row in existing.values() if row.deleted_at is None and row.synced_at <= fetched_at]
    return plan


def _apply(
    project: Project, remote_items: list[RemoteIntegration], catalog: Catalog | None, *, fetched_at: datetime
) -> SyncResult:
    now = timezone.now()
    with transaction.atomic():
        # Serialise writes to one project's mirror (a scheduled sync and a page's refresh).
        list(Project.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True))
        existing = {row.qonversion_id: row for row in Integration.objects.filter(project=project)}
        plan = _plan(project, existing, remote_items, catalog, fetched_at=fetched_at, now=now)
        Integration.objects.bulk_create(plan.to_create, batch_size=500)
        Integration.objects.bulk_update(plan.to_update, (*MIRRORED_FIELDS, *PENDING_FIELDS), batch_size=500)
        for row, detail in plan.reused:  # rare: one save and one audit event each
            row.save(update_fields=TAKEN_OVER_FIELDS)
            record_for_integration(
                row, action="integration.id_reused", actor=None, outcome=Outcome.SUCCESS, detail=detail
            )
        recorded = IntegrationChange.objects.bulk_create(
            [change_of(row, before, now, previous_count=count) for row, before, count in plan.changes],
            batch_size=500,
        )
        if plan.gone:
            Integration.objects.filter(pk__in=plan.gone).update(deleted_at=now, synced_at=now)
        Project.objects.filter(pk=project.pk).update(synced_at=now, sync_attempted_at=fetched_at, sync_error="")
        # Tell people once the new state is stored, so a rolled-back sync alerts nobody.
        transitions = [change for change in recorded if change.integration.qonversion_id in plan.alerting]
        if transitions:
            transaction.on_commit(lambda: alerts.transitions_recorded(changes=transitions))
    project.synced_at, project.sync_attempted_at, project.sync_error = now, fetched_at, ""
    return SyncResult(
        added=len(plan.to_create) + len(plan.reused),
        updated=len(plan.to_update),
        removed=len(plan.gone),
        total=len(remote_items),
        newly_broken=len(plan.newly_broken),
    )
