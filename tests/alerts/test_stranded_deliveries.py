"""A delivery whose task was lost (queueing failed, a worker died) is handed to the queue
again by the schedule, and still sent at most once."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from alerts.models import AlertChannel, AlertDelivery, AlertEvent, DeliveryStatus
from alerts.services import STRANDED_AFTER, alert_channel_create, requeue_stranded_deliveries
from teams.models import Team


@pytest.mark.django_db
def test_a_pending_delivery_without_a_task_is_queued_again(team: Team, owner, database_tasks):
    channel = AlertChannel.objects.get(
        pk=alert_channel_create(
            team=team, actor=owner, kind="slack", label="Ops", url="https://hooks.example.com/x"
        ).channel.pk
    )
    long_ago = timezone.now() - STRANDED_AFTER - timedelta(minutes=1)
    stranded = AlertDelivery.objects.create(team=team, channel=channel, event=AlertEvent.TEST, created_at=long_ago)
    fresh = AlertDelivery.objects.create(team=team, channel=channel, event=AlertEvent.TEST)
    sent = AlertDelivery.objects.create(
        team=team, channel=channel, event=AlertEvent.TEST, created_at=long_ago, status=DeliveryStatus.SENT
    )
    DBTaskResult.objects.all().delete()
    assert requeue_stranded_deliveries(now=timezone.now()) == 1
    queued = DBTaskResult.objects.get()
    assert queued.task_path.endswith("deliver_alert")
    assert queued.args_kwargs["args"] == [stranded.pk]
    assert fresh.pk != sent.pk
