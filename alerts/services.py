"""Telling people when an integration breaks or recovers, and managing where that goes.

A sync (or an Activate) that records an integration entering or leaving Error hands
the committed history rows to `transitions_recorded`. Each transition becomes one
`AlertDelivery` per enabled channel of the team — or, for a team without channels,
one email to its owners and admins — and a task sends it. The delivery row is unique
per (channel, transition), so repeated syncs, several workers and a second call about
the same transition never alert twice. Nothing here sends anything: that is the
task's job (alerts/tasks.py), never a request's.
"""

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.views.decorators.debug import sensitive_variables

from alerts.models import AlertChannel, AlertDelivery, AlertEvent, ChannelKind, DeliveryStatus, EmailAlertMute
from alerts.tasks import deliver_alert
from audit import services as audit
from audit.models import Outcome
from integrations.history import record_for_integration
from integrations.models import IntegrationChange
from qonadmin.errors import ServiceError
from teams.models import Membership, Team

logger = logging.getLogger(__name__)

MAX_URL_LENGTH = 2000
SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
_validate_url = URLValidator(schemes=["http", "https"])


class AlertError(ServiceError):
    """An alert channel change that cannot be made; `field` is the form field it belongs under."""

    def __init__(self, message: str, *, field: str = "label") -> None:
        super().__init__(message)
        self.field = field


# ---- transitions -> deliveries -----------------------------------------------------------


def transitions_recorded(*, changes: Sequence[IntegrationChange]) -> None:
    """Integrations entered Error or recovered from it (history rows, committed): each
    becomes one alert per channel, sent by a task. Safe to call twice for the same change."""
    ids = [change.pk for change in changes if change.pk and (change.entered_error or change.recovered)]
    rows = IntegrationChange.objects.select_related("integration__project__team").filter(pk__in=ids).order_by("pk")
    for change in rows:
        _alert_transition(change)


def _alert_transition(change: IntegrationChange) -> None:
    integration = change.integration
    team = integration.project.team
    event = AlertEvent.ERROR if change.entered_error else AlertEvent.RECOVERED
    with transaction.atomic():
        # Callers about the same transition queue here; the second finds the first's rows.
        list(IntegrationChange.objects.select_for_update().filter(pk=change.pk).values_list("pk", flat=True))
        first_time = not AlertDelivery.objects.filter(change=change).exists()
        channels = list(AlertChannel.objects.filter(team=team))
        # No channel at all: the team's default, email to owners and admins.
        targets: list[AlertChannel | None] = [c for c in channels if c.enabled] if channels else [None]
        for channel in targets:
            delivery, created = AlertDelivery.objects.get_or_create(
                channel=channel, change=change, defaults={"team": team, "event": event}
            )
            if created:
                transaction.on_commit(partial(enqueue_delivery, delivery.pk))
        if first_time:
            _audit_transition(change, event)


def _audit_transition(change: IntegrationChange, event: AlertEvent) -> None:
    integration = change.integration
    if event == AlertEvent.ERROR:
        logger.warning("project %s: integration %s went into Error", integration.project_id, integration.pk)
        record_for_integration(
            integration,
            action="integration.error_detected",
            actor=None,
            outcome=Outcome.FAILURE,
            detail={
                "last_error_message": change.last_error_message,
                "delivery_error_count": change.delivery_error_count,
            },
        )
    else:
        logger.info("project %s: integration %s recovered", integration.project_id, integration.pk)
        record_for_integration(
            integration,
            action="integration.recovered",
            actor=None,
            outcome=Outcome.SUCCESS,
            detail={"status": change.status, "delivery_error_count": change.delivery_error_count},
        )


def enqueue_delivery(delivery_id: int) -> None:
    """Hand one delivery to the task queue. A queue failure must not break the sync that
    noticed the transition: the delivery stays pending on the Alerts page."""
    try:
        deliver_alert.enqueue(delivery_id)
    except Exception:
        logger.exception("could not queue alert delivery %s", delivery_id)


STRANDED_AFTER = timedelta(minutes=10)


def requeue_stranded_deliveries(*, now: datetime) -> int:
    """Pending deliveries whose task was lost (queueing failed, or a worker died between
    tries) are handed to the queue again by the schedule; a delivery is still sent at
    most once (deliver_alert claims it first)."""
    stranded = (
        AlertDelivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now - STRANDED_AFTER))
        .filter(created_at__lte=now - STRANDED_AFTER)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )
    ids = list(stranded.order_by("pk").values_list("pk", flat=True)[:500])
    for delivery_id in ids:
        enqueue_delivery(delivery_id)
    return len(ids)


# ---- channels ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewChannel:
    channel: AlertChannel
    secret: str  # the webhook signing secret, to show once; "" for other kinds


@sensitive_variables("url")
def check_channel_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise AlertError("Enter the URL.", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise AlertError(f"Use a URL of at most {MAX_URL_LENGTH} characters.", field="url")
    try:
        _validate_url(url)
    except ValidationError:
        raise AlertError("Enter a full http:// or https:// URL.", field="url") from None
    return url


def _channel_facts(channel: AlertChannel, members: Sequence[Membership] = ()) -> dict[str, object]:
    """What the audit log may say about a channel: never its URL or secret."""
    facts: dict[str, object] = {"kind": channel.kind, "label": channel.label}
    if members:
        facts["members"] = sorted(m.user.get_username() for m in members)
    return facts


def _record(action: str, *, channel: AlertChannel, actor: User | None, ip: str | None, **detail: object) -> None:
    audit.record(
        action=action,
        actor=actor,
        outcome=Outcome.SUCCESS,
        team=channel.team,
        target_type="alert_channel",
        target_id=str(channel.public_id),
        target_repr=channel.label,
        detail=detail,
        ip=ip,
    )


@sensitive_variables("url", "secret")
def alert_channel_create(
    *,
    team: Team,
    actor: User | None,
    kind: str,
    label: str,
    url: str = "",
    members: Sequence[Membership] = (),
    ip: str | None = None,
) -> NewChannel:
    """Add a channel. Email: the chosen members of the team. Slack and webhook: the URL,
    stored encrypted; a webhook also gets a signing secret, returned once."""
    label = " ".join(label.split())
    if not label:
        raise AlertError("Give the channel a name.")
    if kind not in ChannelKind.values:
        raise AlertError("Choose email, Slack or webhook.", field="kind")
    channel = AlertChannel(team=team, kind=kind, label=label, created_by=actor)
    secret = ""
    if kind == ChannelKind.EMAIL:
        if not members:
            raise AlertError("Choose at least one member to email.", field="members")
        if any(m.team_id != team.pk for m in members):
            raise AlertError("Choose members of this team only.", field="members")
    else:
        channel.set_target(check_channel_url(url))
        if kind == ChannelKind.WEBHOOK:
            secret = SECRET_PREFIX + secrets.token_hex(32)
            channel.set_secret(secret)
    if AlertChannel.objects.filter(team=team, label__iexact=label).exists():
        raise AlertError(f"{team.name} already has an alert channel called “{label}”.")
    try:
        with transaction.atomic():
            channel.save()
            if kind == ChannelKind.EMAIL:
                channel.members.set(members)
            _record("alert_channel.created", channel=channel, actor=actor, ip=ip, **_channel_facts(channel, members))
    except IntegrityError:
        raise AlertError(f"{team.name} already has an alert channel called “{label}”.") from None
    return NewChannel(channel=channel, secret=secret)


def alert_channel_remove(*, channel: AlertChannel, actor: User, ip: str | None = None) -> None:
    """Remove a channel; its deliveries (sent or waiting) go with it."""
    with transaction.atomic():
        _record("alert_channel.removed", channel=channel, actor=actor, ip=ip, **_channel_facts(channel))
        channel.delete()


def alert_channel_set_enabled(*, channel: AlertChannel, actor: User, enabled: bool, ip: str | None = None) -> None:
    """Turn a channel off (it gets nothing, keeping its URL and secret) or back on."""
    if channel.enabled == enabled:
        return
    with transaction.atomic():
        AlertChannel.objects.filter(pk=channel.pk).update(enabled=enabled)
        channel.enabled = enabled
        action = "alert_channel.enabled" if enabled else "alert_channel.disabled"
        _record(action, channel=channel, actor=actor, ip=ip, **_channel_facts(channel))


def alert_channel_test(*, channel: AlertChannel, actor: User, ip: str | None = None) -> AlertDelivery:
    """Queue a test alert to `channel` (sent by a task; tried once); its outcome shows
    with the other deliveries."""
    with transaction.atomic():
        delivery = AlertDelivery.objects.create(team=channel.team, channel=channel, event=AlertEvent.TEST)
        _record("alert_channel.test_sent", channel=channel, actor=actor, ip=ip, **_channel_facts(channel))
        transaction.on_commit(partial(enqueue_delivery, delivery.pk))
    return delivery


# ---- muting ------------------------------------------------------------------------------


def email_alerts_mute(*, team: Team, user: User, muted: bool, ip: str | None = None) -> None:
    """Stop (or resume) alert email from `team` for `user` alone."""
    with transaction.atomic():
        if muted:
            _, changed = EmailAlertMute.objects.get_or_create(team=team, user=user)
        else:
            changed = bool(EmailAlertMute.objects.filter(team=team, user=user).delete()[0])
        if changed:
            audit.record(
                action="alert.mute" if muted else "alert.unmute",
                actor=user,
                outcome=Outcome.SUCCESS,
                team=team,
                target_type="user",
                target_id=str(user.pk),
                target_repr=user.get_username(),
                ip=ip,
            )


def alert_channels_reencrypt() -> int:
    """Re-seal every channel's URL and secret under the current primary key (for key
    rotation); returns how many channels were rewritten."""
    count = 0
    for pk in AlertChannel.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            channel = AlertChannel.objects.select_for_update().filter(pk=pk).first()
            if channel is None:
                continue
            channel.reencrypt()
            channel.save(update_fields=["target_encrypted", "secret_encrypted"])
            count += 1
    return count
