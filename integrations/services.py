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
from django.utils import timezone

from alerts import services as alerts
from audit import services as audit
from audit.models import Outcome
from integrations.catalog import cached_catalog
from integrations.clients import client_for_project
from integrations.errors import AwaitingConfirmation, IntegrationError, UpstreamError
from integrations.history import record_for_integration
from integrations.mirror import change_of, health_changed, mirror_values
from integrations.models import Integration, Status
from integrations.qonversion import QonversionError, QonversionNotFound
from teams.models import Project

logger = logging.getLogger(__name__)


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
    values = mirror_values(remote, cached_catalog(project), timezone.now())
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
    values = mirror_values(remote, cached_catalog(project), timezone.now())
    values["provider_slug"] = values["provider_slug"] or integration.provider_slug
    values.update(pending_status="", pending_since=None)  # Qonversion answered: nothing is pending
    changed = health_changed(integration, values)
    with transaction.atomic():
        for name, value in values.items():
            setattr(integration, name, value)
        integration.save(update_fields=list(values))
        if changed:
            change = change_of(integration, before, timezone.now())
            change.save()
            if change.recovered:  # e.g. activated again after Qonversion suspended it
                transaction.on_commit(lambda: alerts.transitions_recorded(changes=[change]))
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
