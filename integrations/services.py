"""Every write: integrations upstream, the local mirror, and the audit trail.

Keyword-only functions. Each calls Qonversion through the client, then updates the
mirror and records an audit event in one transaction. A failure upstream is
recorded too (outcome "failure" or "unknown") and raised as an IntegrationError
for the view to explain.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from integrations.models import BulkJob, Integration, Status
from integrations.qonversion import QonversionError, QonversionNotFound
from integrations.sync import TAKEN_OVER_FIELDS, id_reuse_detail, is_same_record, take_over_row
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
    now = timezone.now()
    values = mirror_values(remote, cached_catalog(project), now)
    values["provider_slug"] = provider_slug
    deleted_before: Integration | None = None
    with transaction.atomic():
        integration = Integration.objects.select_for_update().filter(project=project, qonversion_id=remote.id).first()
        if integration is None:
            try:
                with transaction.atomic():
                    integration = Integration.objects.create(project=project, qonversion_id=remote.id, **values)
            except IntegrityError:  # a refresh inserted it a moment ago
                integration = Integration.objects.select_for_update().get(project=project, qonversion_id=remote.id)
        if not is_same_record(integration, values):
            # The row mirrors another record that had this id: Qonversion handed the id
            # out again (e.g. a sandbox restarted without its state). Never show the old
            # record as created: the row becomes the new one (docs/mirror-rules.md).
            detail = id_reuse_detail(integration)
            take_over_row(integration, values)
            integration.created_by = actor
            integration.save(update_fields=TAKEN_OVER_FIELDS)
            change_of(integration, "", now).save()  # first sighting of the new record
            record_for_integration(
                integration,
                action="integration.create",
                actor=actor,
                outcome=Outcome.SUCCESS,
                detail={"request": request, "after": {"status": remote.status}, "id_reused": detail},
                ip=ip,
            )
            return integration
        if integration.deleted_at is not None:
            # The same record, deleted since: this submission was answered before (a
            # replay of its first answer), and what it created is gone for good.
            deleted_before = integration
        # A replayed submission (double click, retry) finds the row: its state stays as
        # the latest refresh or action left it, and it is recorded as created only once,
        # also when a refresh listed it before this request got its answer.
        elif integration.created_by_id is None:
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
    if deleted_before is not None:
        _refuse_deleted_replay(deleted_before, actor=actor, request=request, ip=ip)
    return integration


class CreatedBeforeAndDeleted(IntegrationError):
    """Qonversion answered a create with the first answer to this submission, and the
    integration it made was deleted since: nothing new exists, and the deleted one is
    not shown as created."""

    conflict = True  # the form starts a new submission (new key) for the next attempt


def _refuse_deleted_replay(
    integration: Integration, *, actor: User, request: Mapping[str, object], ip: str | None
) -> None:
    deleted_at = integration.deleted_at
    assert deleted_at is not None  # noqa: S101 - only called for a deleted row
    record_for_integration(
        integration,
        action="integration.create",
        actor=actor,
        outcome=Outcome.FAILURE,
        detail={
            "request": dict(request),
            "refused": "Qonversion answered with an earlier create of this submission, deleted since",
            "deleted_at": deleted_at.isoformat(),
        },
        ip=ip,
    )
    raise CreatedBeforeAndDeleted(
        f"This form was already sent: it created “{integration.title}”, which was deleted "
        f"{deleted_at:%Y-%m-%d %H:%M} UTC, and Qonversion answered with that one again"
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
    values = mirror_values(remote, cached_catalog(project), timezone.now())
    values["provider_slug"] = values["provider_slug"] or integration.provider_slug
    values.update(pending_status="", pending_since=None)  # Qonversion answered: nothing is pending
    changed = health_changed(integration, values)
    count_before = integration.delivery_error_count
    with transaction.atomic():
        for name, value in values.items():
            setattr(integration, name, value)
        integration.save(update_fields=list(values))
        if changed:
            change = change_of(integration, before, timezone.now(), previous_count=count_before)
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


def bulk_would_change_any(integrations: Sequence[Integration], action: BulkAction) -> bool:
    return any(bulk_would_change(integration, action) for integration in integrations)


def bulk_outcome_line(outcome: BulkOutcome, action: BulkAction) -> dict[str, object]:
    """One row's result as the bulk panel shows it."""
    integration = outcome.integration
    line: dict[str, object] = {"id": integration.pk, "title": integration.title, "ok": True, "changes": True}
    if outcome.error is not None:
        unknown_next = "waiting for Qonversion to confirm; refresh to check"
        line |= {"ok": False, "text": outcome.error.explain(outcome="Not changed", unknown_next=unknown_next)}
    elif outcome.changed:
        line["text"] = BULK_PAST_TENSE[action]
    else:
        line |= {"text": f"{BULK_UNCHANGED[action]}: no change", "changes": False}
    return line


BULK_PAST_TENSE = {BulkAction.PAUSE: "Paused", BulkAction.ACTIVATE: "Activated", BulkAction.DELETE: "Deleted"}
BULK_UNCHANGED = {BulkAction.PAUSE: "Already paused", BulkAction.ACTIVATE: "Already active", BulkAction.DELETE: ""}


def bulk_job_start(
    *, project: Project, actor: User, action: BulkAction, integrations: Sequence[Integration], ip: str | None = None
) -> BulkJob:
    """Record the job and hand it to a worker; the page polls its progress."""
    from integrations.tasks import run_bulk_job  # tasks import this module

    job = BulkJob.objects.create(
        project=project, actor=actor, action=action, integration_ids=[i.pk for i in integrations], ip=ip
    )
    run_bulk_job.enqueue(job.pk)
    job.refresh_from_db()  # a worker may have started (or, run inline, finished) it already
    return job


def bulk_job_run(*, job: BulkJob) -> None:
    """Apply the job's action row by row (each call bounded like every call), saving each
    row's result as it goes so the page can show progress; one failure does not stop the
    rest. A job already finished (or run by another worker meanwhile) is left alone."""
    if job.finished_at is not None or job.actor is None:
        BulkJob.objects.filter(pk=job.pk, finished_at__isnull=True).update(finished_at=timezone.now())
        return
    action = BulkAction(job.action)
    done = {line["id"] for line in job.results}
    rows = {i.pk: i for i in Integration.objects.filter(project=job.project, pk__in=job.integration_ids)}
    for integration_id in job.integration_ids:
        integration = rows.get(integration_id)
        if integration is None or integration_id in done:
            continue
        integration.project = job.project
        outcome = _bulk_apply_one(integration, action=action, actor=job.actor, ip=job.ip)
        job.results = [*job.results, bulk_outcome_line(outcome, action)]
        BulkJob.objects.filter(pk=job.pk).update(results=job.results)
    BulkJob.objects.filter(pk=job.pk).update(finished_at=timezone.now())


def _bulk_apply_one(integration: Integration, *, action: BulkAction, actor: User, ip: str | None) -> BulkOutcome:
    if integration.is_deleted or not bulk_would_change(integration, action):
        return BulkOutcome(integration=integration, changed=False)
    try:
        if action is BulkAction.DELETE:
            integration_delete(integration=integration, actor=actor, ip=ip)
        else:
            integration_set_status(integration=integration, actor=actor, active=action is BulkAction.ACTIVATE, ip=ip)
    except IntegrationError as error:
        return BulkOutcome(integration=integration, changed=False, error=error)
    return BulkOutcome(integration=integration, changed=True)
