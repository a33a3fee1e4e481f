"""Alert delivery, run by the task workers (`python manage.py db_worker`), never in a request.

`deliver_alert` sends one AlertDelivery. It first claims the row (one UPDATE that
only succeeds while the row is pending and nobody holds it), so two workers running
the same delivery send it once; a delivery already sent, given up or removed is left
alone. A failed try is recorded on the row (attempts, last error, next try) and the
task queues itself again after a growing delay: 1, 5, 30, then 120 minutes; after
the fifth failed try the delivery is marked failed. A test alert is tried once.
"""

import logging
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.tasks import task
from django.utils import timezone

from alerts import content, transports
from alerts.models import AlertDelivery, AlertEvent, ChannelKind, DeliveryStatus
from alerts.selectors import email_recipients
from alerts.transports import DeliveryFailed
from qonadmin.redaction import redact
from qonadmin.retries import MAX_ATTEMPTS, RETRY_DELAYS, enqueue_later
from teams.crypto import DecryptionError

logger = logging.getLogger(__name__)

# Longer than any one try can take (timeouts included): a claim older than this is
# from a worker that died mid-try, and the delivery may be taken over.
CLAIM_SECONDS = 120
MAX_ERROR_LENGTH = 1000


@task
def deliver_alert(delivery_id: int) -> str:
    """Send one alert; returns what happened (sent, skipped, retry, failed, not pending)."""
    now = timezone.now()
    claimed = (
        AlertDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=F("attempts") + 1,
            last_attempt_at=now,
        )
    )
    if not claimed:
        return "not pending"  # sent or given up already, removed, or another worker has it
    delivery = (
        AlertDelivery.objects.select_related("team", "channel", "change__integration__project")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return "not pending"  # its channel was removed meanwhile
    try:
        status = _send(delivery)
    except DeliveryFailed as error:
        return _failed(delivery, str(error))
    except DecryptionError:
        return _failed(delivery, "The channel's stored URL or secret cannot be decrypted; remove and add it again.")
    except Exception as error:
        logger.exception("alert delivery %s failed unexpectedly", delivery.pk)
        return _failed(delivery, f"Unexpected error ({type(error).__name__}).")
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=status, sent_at=timezone.now(), last_error="", next_attempt_at=None, claimed_until=None
    )
    return str(status)


def _send(delivery: AlertDelivery) -> DeliveryStatus:
    alert = content.alert_of(delivery)
    channel = delivery.channel
    if channel is None or channel.kind == ChannelKind.EMAIL:
        recipients = email_recipients(team=delivery.team, channel=channel)
        if not recipients:
            return DeliveryStatus.SKIPPED
        transports.email(recipients, content.email_subject(alert), content.email_body(alert))
        return DeliveryStatus.SENT
    if channel.kind == ChannelKind.SLACK:
        transports.post(channel.target(), content.json_bytes({"text": content.slack_text(alert)}), {})
        return DeliveryStatus.SENT
    body = content.webhook_body(alert)
    headers = {
        transports.SIGNATURE_HEADER: transports.signature(channel.secret(), body),
        "X-Qonadmin-Event": alert.event,
        "X-Qonadmin-Delivery": str(delivery.pk),  # the same on every retry: receivers can ignore repeats
    }
    transports.post(channel.target(), body, headers)
    return DeliveryStatus.SENT


def _failed(delivery: AlertDelivery, why: str) -> str:
    attempts = delivery.attempts  # read after the claim counted this try
    give_up = delivery.event == AlertEvent.TEST or attempts >= MAX_ATTEMPTS
    next_attempt_at = None if give_up else timezone.now() + RETRY_DELAYS[attempts - 1]
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
        last_error=redact(why)[:MAX_ERROR_LENGTH],
        next_attempt_at=next_attempt_at,
        claimed_until=None,
    )
    logger.warning("alert delivery %s: try %s failed: %s", delivery.pk, attempts, redact(why))
    if next_attempt_at is None:
        return "failed"
    _retry_at(delivery.pk, next_attempt_at)
    return "retry"


def _retry_at(delivery_id: int, when: datetime) -> None:
    try:
        if not enqueue_later(deliver_alert, when, delivery_id):
            # Only a backend for tests runs tasks at once; the row still shows its next try.
            logger.warning("alert delivery %s: the task backend cannot schedule the retry", delivery_id)
    except Exception:
        logger.exception("could not queue the retry of alert delivery %s", delivery_id)
