"""One alert per transition per channel: whatever the number of refreshes, of calls
about the same transition, or of workers running the same delivery at once.
Run on SQLite and on PostgreSQL (DATABASE_URL=postgres://…)."""

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from alerts import services
from alerts.models import AlertDelivery, ChannelKind, DeliveryStatus
from alerts.services import alert_channel_create, transitions_recorded
from alerts.tasks import deliver_alert
from audit.models import AuditEvent
from integrations.sync import project_sync
from teams.models import Membership
from tests.alerts.conftest import break_integration, entered_error_change
from tests.alerts.receiver import Receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


def at_once(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run `work` in `count` threads released together; each thread has its own connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.fixture
def three_channels(team, owner, receiver: Receiver) -> None:
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ops", url=receiver.at("/ops"))
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.SLACK, label="#alerts", url=receiver.at("/slack"))
    owner.email = "alice@example.com"
    owner.save()
    members = [Membership.objects.get(user=owner)]
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.EMAIL, label="Alice", members=members)


@pytest.mark.usefixtures("immediate_tasks", "three_channels")
def test_repeated_refreshes_alert_each_channel_once(watched, owner, sandbox, receiver: Receiver, mailoutbox):
    break_integration(watched, owner, sandbox)
    for _ in range(3):
        project_sync(project=watched)
    assert len(receiver.posts_to("/ops")) == 1
    assert len(receiver.posts_to("/slack")) == 1
    assert len(mailoutbox) == 1
    assert AlertDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 3


@pytest.mark.usefixtures("immediate_tasks", "three_channels")
def test_being_told_twice_about_the_same_transition_sends_nothing_more(
    watched, owner, sandbox, receiver: Receiver, mailoutbox
):
    integration = break_integration(watched, owner, sandbox)
    project_sync(project=watched)
    transitions_recorded(changes=[entered_error_change(integration)])
    assert len(receiver.requests) == 2
    assert len(mailoutbox) == 1
    assert AlertDelivery.objects.count() == 3
    assert AuditEvent.objects.filter(action="integration.error_detected").count() == 1


@pytest.mark.usefixtures("database_tasks", "three_channels")
def test_two_workers_told_about_the_same_transition_at_once_queue_one_alert_per_channel(
    watched, owner, sandbox, monkeypatch
):
    # The refresh records the transition; the two "workers" below are the ones told about it.
    monkeypatch.setattr(services, "transitions_recorded", lambda **kwargs: None)
    integration = break_integration(watched, owner, sandbox)
    project_sync(project=watched)
    change = entered_error_change(integration)
    assert not AlertDelivery.objects.exists()

    at_once(2, lambda: transitions_recorded(changes=[change]))

    assert AlertDelivery.objects.filter(change=change).count() == 3
    queued = DBTaskResult.objects.filter(task_path="alerts.tasks.deliver_alert")
    assert sorted(q.args_kwargs["args"][0] for q in queued) == sorted(
        AlertDelivery.objects.values_list("pk", flat=True)
    )
    assert AuditEvent.objects.filter(action="integration.error_detected").count() == 1


@pytest.mark.usefixtures("dummy_tasks")
def test_two_workers_running_the_same_delivery_send_it_once(team, owner, receiver: Receiver):
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ops", url=receiver.at("/ops"))
    delivery = services.alert_channel_test(channel=team.alert_channels.get(), actor=owner)
    receiver.delay = 0.5  # both workers are inside the task while the first one sends

    outcomes = at_once(2, lambda: deliver_alert.call(delivery.pk))

    assert sorted(outcomes) == ["not pending", "sent"]
    assert len(receiver.posts_to("/ops")) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)


@pytest.mark.usefixtures("dummy_tasks")
def test_a_sent_delivery_is_never_sent_again(team, owner, receiver: Receiver):
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ops", url=receiver.at("/ops"))
    delivery = services.alert_channel_test(channel=team.alert_channels.get(), actor=owner)
    assert deliver_alert.call(delivery.pk) == "sent"
    assert deliver_alert.call(delivery.pk) == "not pending"
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("dummy_tasks")
def test_a_delivery_held_by_a_worker_that_died_is_taken_over(team, owner, receiver: Receiver):
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ops", url=receiver.at("/ops"))
    delivery = services.alert_channel_test(channel=team.alert_channels.get(), actor=owner)
    AlertDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))
    assert deliver_alert.call(delivery.pk) == "not pending"  # someone is at it
    AlertDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert deliver_alert.call(delivery.pk) == "sent"  # their claim ran out: they died
    assert len(receiver.requests) == 1
