"""Every write: integrations upstream, the local mirror, and the audit trail.

Keyword-only functions. Each calls Qonversion through the client, then updates the
mirror and records an audit event in one transaction. A failure upstream is
recorded too (outcome "failure" or "unknown") and raised as an IntegrationError
for the view to explain.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts import services as alerts
from audit import services as audit
from audit.models import Outcome
from integrations.catalog import Catalog, cached_catalog, get_catalog
from integrations.clients import client_for_project
from integrations.errors import AwaitingConfirmation, IntegrationError, UpstreamError
from integrations.explain import reason
from integrations.history import record_for_integration
from integrations.models import Integration, Status
from integrations.qonversion import QonversionError, QonversionNotFound, RemoteIntegration
from qonadmin.redaction import redact
from qonadmin.text import reveal_bidi_controls
from teams.models import Project

logger = logging.getLogger(__name__)

MIRRORED_FIELDS = (
    "title",
    "provider_name",
    "provider_slug",
    "platform",
    "status",
    "last_delivery_at",
    "last_error_at",
    "last_error_message",
    "delivery_error_count",
    "upstream_created_at",
    "upstream_updated_at",
    "synced_at",
)
PENDING_FIELDS = ("pending_status", "pending_since")


def shown_upstream_text(text: str) -> str:
    """Upstream text as the mirror keeps it: secret keys masked, direction controls visible."""
    return reveal_bidi_controls(redact(text))


def _mirror_values(remote: RemoteIntegration, catalog: Catalog | None, now: object) -> dict[str, object]:
    return {
        # Upstream text is stored as shown: with anything that looks like a secret key masked.
        "title": shown_upstream_text(remote.title)[:255],
        "provider_name": remote.provider_name,
        "provider_slug": catalog.slug_for_title(remote.provider_name) if catalog else "",
        "platform": remote.target_platform,
        "status": remote.status,
        "last_delivery_at": remote.last_delivery_at,
        "last_error_at": remote.last_error_at,
        "last_error_message": shown_upstream_text(remote.last_error_message or ""),
        "delivery_error_count": remote.delivery_error_count,
        "upstream_created_at": remote.created_at,
        "upstream_updated_at": remote.updated_at,
        "synced_at": now,
    }


def _upstream_failure(
    *,
    action: str,
    project: Project,
    actor: User | None,
    error: QonversionError,
    target_id: str = "",
    target_repr: str = "",
    request: Mapping[str, object] | None = None,
    ip: str | None = None,
) -> None:
    logger.warning("%s for project %s failed upstream: %s", action, project.pk, error.as_dict())
    audit.record(
        action=action,
        actor=actor,
        # Unknown: Qonversion may have acted on it (lost answer, 5xx, unreadable answer).
        outcome=Outcome.UNKNOWN if error.outcome_unknown else Outcome.FAILURE,
        project=project,
        target_type="integration",
        target_id=target_id,
        target_repr=target_repr,
        detail={"request": dict(request or {}), "upstream": error.as_dict()},
        ip=ip,
    )


# ---- create ----------------------------------------------------------------------------


def integration_create(
    *,
    project: Project,
    actor: User,
    title: str,
    provider_slug: str,
    platform: str,
    idempotency_key: str,
    ip: str | None = None,
) -> Integration:
    """Create upstream (idempotent per submission), then mirror and audit it."""
    request = {"title": title, "integration": provider_slug, "target_platform": platform}
    try:
        remote = client_for_project(project).create_integration(
            title=title, provider_slug=provider_slug, platform=platform, idempotency_key=idempotency_key
        )
    except QonversionError as error:
        _upstream_failure(
            action="integration.create",
            project=project,
            actor=actor,
            error=error,
            target_repr=title,
            request=request,
            ip=ip,
        )
        raise UpstreamError(error) from error
    values = _mirror_values(remote, cached_catalog(project), timezone.now())
    values["provider_slug"] = provider_slug
    with transaction.atomic():
        integration = Integration.objects.select_for_update().filter(project=project, qonversion_id=remote.id).first()
        if integration is None:
            try:
                with transaction.atomic():
                    integration = Integration.objects.create(project=project, qonversion_id=remote.id, **values)
            except IntegrityError:  # a refresh inserted it a moment ago
                integration = Integration.objects.select_for_update().get(project=project, qonversion_id=remote.id)
        # A replayed submission (double click, retry) finds the row: its state stays as
        # the latest refresh or action left it, and it is recorded as created only once,
        # also when a refresh listed it before this request got its answer.
        if integration.created_by_id is None:
            integration.created_by = actor
            integration.save(update_fields=["created_by"])
            record_for_integration(
                integration,
                action="integration.create",
                actor=actor,
                outcome=Outcome.SUCCESS,
                detail={"request": request, "after": {"status": remote.status}},
                ip=ip,
            )
    return integration


# ---- sync ------------------------------------------------------------------------------


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


def _claim_sync(project: Project, now: datetime) -> bool:
    """Mark `project` as being refreshed, unless another refresh is at it right now.
    A claim older than the bound on waiting is from a refresh that died: taken over."""
    stale = now - timedelta(seconds=settings.QONVERSION_DEADLINE_SECONDS + 5)
    unclaimed = Q(sync_started_at__isnull=True) | Q(sync_started_at__lt=stale)
    return bool(Project.objects.filter(unclaimed, pk=project.pk).update(sync_started_at=now))


def project_sync(*, project: Project) -> SyncResult:
    """Refresh the mirror from GET /v4/integrations.

    New upstream records are added, changed ones updated, and records that are no
    longer listed are marked deleted. A failure is kept on the project (shown as
    "Could not refresh…") and re-raised; the last known rows stay as they were.
    Only one refresh of a project talks to Qonversion at a time; others return at once
    (`skipped`) instead of queueing behind a slow Qonversion.
    """
    attempted_at = fetched_at = timezone.now()
    if not _claim_sync(project, attempted_at):
        return SyncResult(added=0, updated=0, removed=0, total=0, skipped=True)
    try:
        return _sync_claimed(project, attempted_at=attempted_at, fetched_at=fetched_at)
    finally:
        Project.objects.filter(pk=project.pk, sync_started_at=attempted_at).update(sync_started_at=None)


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


def _sync_claimed(project: Project, *, attempted_at: datetime, fetched_at: datetime) -> SyncResult:
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
    now = timezone.now()
    with transaction.atomic():
        # Serialise concurrent refreshes of one project (two tabs polling): the
        # second waits, then sees the first one's rows instead of inserting them again.
        list(Project.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True))
        existing = {row.qonversion_id: row for row in Integration.objects.filter(project=project)}
        to_create: list[Integration] = []
        to_update: list[Integration] = []
        newly_broken: list[Integration] = []
        watched_before = project.synced_at is not None
        for remote in remote_items:
            values = _mirror_values(remote, catalog, now)
            row = existing.pop(remote.id, None)
            if row is not None and (row.synced_at > fetched_at or row.deleted_at is not None):
                # Written by an action after our list was taken (newer than this list), or
                # deleted: deletion in Qonversion is permanent, whatever a list still shows.
                continue
            broke = remote.status == Status.ERROR and (row.status != Status.ERROR if row else watched_before)
            if row is None:
                to_create.append(Integration(project=project, qonversion_id=remote.id, **values))
                if broke:
                    newly_broken.append(to_create[-1])
                continue
            if broke:
                newly_broken.append(row)
            if not values["provider_slug"]:
                values["provider_slug"] = row.provider_slug  # keep what we knew at create time
            values.update(_settle_pending(row, remote, now))
            # Write only rows that changed, so a quiet sync is a handful of queries.
            if any(getattr(row, name) != value for name, value in values.items() if name != "synced_at"):
                for name, value in values.items():
                    setattr(row, name, value)
                to_update.append(row)
        Integration.objects.bulk_create(to_create, batch_size=500)
        Integration.objects.bulk_update(to_update, (*MIRRORED_FIELDS, *PENDING_FIELDS), batch_size=500)
        # Not listed: gone upstream, unless created here after our list was taken.
        gone = [row.pk for row in existing.values() if row.deleted_at is None and row.synced_at <= fetched_at]
        if gone:
            Integration.objects.filter(pk__in=gone).update(deleted_at=now, synced_at=now)
        Project.objects.filter(pk=project.pk).update(synced_at=now, sync_attempted_at=attempted_at, sync_error="")
        if newly_broken:
            # Tell people once the new state is stored, so a rolled-back sync alerts nobody.
            transaction.on_commit(lambda: alerts.integrations_broke(project=project, integrations=newly_broken))
    project.synced_at, project.sync_attempted_at, project.sync_error = now, attempted_at, ""
    return SyncResult(
        added=len(to_create),
        updated=len(to_update),
        removed=len(gone),
        total=len(remote_items),
        newly_broken=len(newly_broken),
    )


# ---- status ----------------------------------------------------------------------------


def awaiting_confirmation(integration: Integration, *, now: datetime | None = None) -> bool:
    """Whether a pause or activate of `integration` with an unknown outcome may still land."""
    if not integration.pending_status or integration.pending_since is None:
        return False
    window = timedelta(seconds=settings.QONADMIN_CONFIRM_WINDOW_SECONDS)
    return integration.pending_since >= (now or timezone.now()) - window


def _refuse_opposite_of_pending(integration: Integration, wanted: Status) -> None:
    pending = integration.pending_status
    if not pending or pending == wanted or integration.pending_since is None:
        return  # nothing pending, or a retry of the same change (harmless: setting a state is idempotent)
    if not awaiting_confirmation(integration):
        return  # too long ago to land now: the listed state holds
    asked = Status(pending).label.lower()
    settled_by = integration.pending_since + timedelta(seconds=settings.QONADMIN_CONFIRM_WINDOW_SECONDS)
    raise AwaitingConfirmation(
        f"Qonversion has not confirmed the earlier change to {asked} "
        f"(asked at {integration.pending_since:%H:%M} UTC); change it again once a refresh shows the outcome, "
        f"at the latest after {settled_by:%H:%M} UTC"
    )


def _mark_gone_upstream(integration: Integration) -> None:
    """Qonversion answered 404: the integration no longer exists there."""
    now = timezone.now()
    Integration.objects.filter(pk=integration.pk, deleted_at__isnull=True).update(deleted_at=now, synced_at=now)
    integration.deleted_at = integration.deleted_at or now


def _mark_pending(integration: Integration, wanted: Status) -> None:
    """Qonversion may or may not have applied the change: say so on the row until a
    refresh settles it."""
    now = timezone.now()
    Integration.objects.filter(pk=integration.pk).update(pending_status=wanted, pending_since=now)
    integration.pending_status, integration.pending_since = wanted, now


def integration_set_status(
    *,
    integration: Integration,
    actor: User,
    active: bool,
    ip: str | None = None,
    deadline_seconds: float | None = None,
) -> Integration:
    """Pause (active=False) or activate (active=True) upstream, then mirror what
    Qonversion reports — never the state we merely asked for."""
    project = integration.project
    action = "integration.activate" if active else "integration.pause"
    before = integration.status
    wanted = Status.ACTIVE if active else Status.PAUSED
    _refuse_opposite_of_pending(integration, wanted)
    try:
        client = client_for_project(project, deadline_seconds=deadline_seconds)
        remote = client.set_status(integration.qonversion_id, active=active)
    except QonversionError as error:
        _upstream_failure(
            action=action,
            project=project,
            actor=actor,
            error=error,
            target_id=integration.qonversion_id,
            target_repr=integration.title,
            request={"status": wanted},
            ip=ip,
        )
        if isinstance(error, QonversionNotFound):
            _mark_gone_upstream(integration)
        elif error.outcome_unknown:
            _mark_pending(integration, wanted)
        raise UpstreamError(error) from error
    values = _mirror_values(remote, cached_catalog(project), timezone.now())
    values["provider_slug"] = values["provider_slug"] or integration.provider_slug
    values.update(pending_status="", pending_since=None)  # Qonversion answered: nothing is pending
    with transaction.atomic():
        for name, value in values.items():
            setattr(integration, name, value)
        integration.save(update_fields=list(values))
        record_for_integration(
            integration,
            action=action,
            actor=actor,
            outcome=Outcome.SUCCESS,
            detail={
                "request": {"status": wanted},
                "before": {"status": before},
                "after": {"status": remote.status},
            },
            ip=ip,
        )
    return integration


# ---- delete ----------------------------------------------------------------------------


def integration_delete(
    *, integration: Integration, actor: User, ip: str | None = None, deadline_seconds: float | None = None
) -> Integration:
    """Soft-delete upstream (the id is never reused), then mark the mirror row deleted.

    If Qonversion no longer has it (404), the outcome the user wanted already holds:
    the row is marked deleted and the audit event says it was already gone."""
    project = integration.project
    already_gone = False
    try:
        client_for_project(project, deadline_seconds=deadline_seconds).delete_integration(integration.qonversion_id)
    except QonversionNotFound:
        already_gone = True
    except QonversionError as error:
        _upstream_failure(
            action="integration.delete",
            project=project,
            actor=actor,
            error=error,
            target_id=integration.qonversion_id,
            target_repr=integration.title,
            ip=ip,
        )
        raise UpstreamError(error) from error
    now = timezone.now()
    with transaction.atomic():
        integration.deleted_at, integration.deleted_by, integration.synced_at = now, actor, now
        integration.save(update_fields=["deleted_at", "deleted_by", "synced_at"])
        record_for_integration(
            integration,
            action="integration.delete",
            actor=actor,
            outcome=Outcome.SUCCESS,
            detail={"before": {"status": integration.status}, "already_deleted_upstream": already_gone},
            ip=ip,
        )
    return integration


# ---- bulk ------------------------------------------------------------------------------


class BulkAction(StrEnum):
    PAUSE = "pause"
    ACTIVATE = "activate"
    DELETE = "delete"


@dataclass(frozen=True)
class BulkOutcome:
    integration: Integration
    changed: bool
    error: IntegrationError | None = None


def bulk_would_change(integration: Integration, action: BulkAction) -> bool:
    if action is BulkAction.PAUSE:
        return integration.status != Status.PAUSED
    if action is BulkAction.ACTIVATE:
        return integration.status != Status.ACTIVE
    return True


@dataclass(frozen=True)
class BulkStep:
    """What one step of a bulk action did, and the rows it had no time left for."""

    outcomes: list[BulkOutcome] = field(default_factory=list)
    remaining: list[Integration] = field(default_factory=list)


# A row is only started with at least this much of the step left.
MIN_ROW_SECONDS = 1.0


def integration_bulk_apply(
    *,
    integrations: Sequence[Integration],
    actor: User,
    action: BulkAction,
    ip: str | None = None,
    step_seconds: float | None = None,
) -> BulkStep:
    """Apply one action to each integration in turn, for at most `step_seconds` (the
    bound on waiting): one failure does not stop the rest, and rows not reached in time
    are returned as `remaining` for the next step. The first row is always tried."""
    ends = time.monotonic() + (step_seconds or settings.QONADMIN_BULK_STEP_SECONDS)
    step = BulkStep()
    for index, integration in enumerate(integrations):
        left = ends - time.monotonic()
        if index and left < MIN_ROW_SECONDS:
            step.remaining.extend(integrations[index:])
            break
        if not bulk_would_change(integration, action):
            step.outcomes.append(BulkOutcome(integration=integration, changed=False))
            continue
        try:
            if action is BulkAction.DELETE:
                integration_delete(integration=integration, actor=actor, ip=ip, deadline_seconds=max(left, 1.0))
            else:
                integration_set_status(
                    integration=integration,
                    actor=actor,
                    active=action is BulkAction.ACTIVATE,
                    ip=ip,
                    deadline_seconds=max(left, 1.0),
                )
        except IntegrationError as error:
            step.outcomes.append(BulkOutcome(integration=integration, changed=False, error=error))
        else:
            step.outcomes.append(BulkOutcome(integration=integration, changed=True))
    return step
