"""A delivery that fails is tried again later (1, 5, 30, 120 minutes), then given up;
every failure is on the Alerts page with its reason, never with the channel's URL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import transports
from alerts.models import AlertDelivery, ChannelKind, DeliveryStatus
from alerts.services import alert_channel_create, alert_channel_test
from alerts.tasks import deliver_alert
from integrations.sync import project_sync
from tests.alerts.conftest import break_integration
from tests.alerts.receiver import Receiver
from tests.conftest import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]

SECRET_PATH = "/hooks/T000/B000/very-secret-path-token"


def close_to(moment, expected, slack: float = 5.0) -> bool:
    return abs((moment - expected).total_seconds()) < slack


def retries_of(queued, delivery_id: int):
    return [r for r in queued if r.task.name == "deliver_alert" and r.args == [delivery_id]]


@pytest.fixture
def failing_webhook(team, owner, receiver: Receiver):
    receiver.status, receiver.answer = 500, "upstream exploded"
    return alert_channel_create(
        team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ops", url=receiver.at(SECRET_PATH)
    ).channel


def test_a_failing_webhook_is_retried_with_backoff_then_given_up(
    watched, owner, sandbox, receiver: Receiver, failing_webhook, dummy_tasks
):
    break_integration(watched, owner, sandbox)
    project_sync(project=watched)
    delivery = AlertDelivery.objects.get()
    assert len(retries_of(dummy_tasks, delivery.pk)) == 1  # queued by the refresh, not sent by it
    assert receiver.requests == []

    for attempt, minutes in enumerate((1, 5, 30, 120), start=1):
        assert deliver_alert.call(delivery.pk) == "retry"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, attempt)
        assert close_to(delivery.next_attempt_at, timezone.now() + timedelta(minutes=minutes))
        retry = retries_of(dummy_tasks, delivery.pk)[-1]
        assert retry.task.run_after == delivery.next_attempt_at
    assert deliver_alert.call(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 5, None)
    assert delivery.last_error == "The endpoint answered 500 Internal Server Error: upstream exploded"
    assert len(retries_of(dummy_tasks, delivery.pk)) == 5  # the first, then one per retry: none after giving up
    # Five tries of the same alert, each recognisable as such by the receiver.
    posts = receiver.posts_to(SECRET_PATH)
    assert len(posts) == 5
    assert len({post.body for post in posts}) == 1
    assert {post.headers["X-Qonadmin-Delivery"] for post in posts} == {str(delivery.pk)}


def test_a_retry_that_gets_through_marks_the_alert_sent(
    watched, owner, sandbox, receiver: Receiver, failing_webhook, dummy_tasks
):
    break_integration(watched, owner, sandbox)
    project_sync(project=watched)
    delivery = AlertDelivery.objects.get()
    assert deliver_alert.call(delivery.pk) == "retry"
    receiver.status = 204
    assert deliver_alert.call(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error, delivery.next_attempt_at) == (
        DeliveryStatus.SENT,
        2,
        "",
        None,
    )
    assert delivery.sent_at is not None


def test_a_test_alert_is_tried_once(owner, receiver: Receiver, failing_webhook, dummy_tasks):
    delivery = alert_channel_test(channel=failing_webhook, actor=owner)
    assert deliver_alert.call(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert len(retries_of(dummy_tasks, delivery.pk)) == 1  # the one queued by the button, no retry


@pytest.mark.usefixtures("dummy_tasks")
def test_failures_are_explained_without_the_url(team, owner, receiver: Receiver, caplog):
    cases = {
        "refused": ("http://127.0.0.1:9" + SECRET_PATH, "Could not connect"),
        "redirect": (receiver.at(SECRET_PATH), "answered 302 (a redirect, which is not followed)"),
    }
    receiver.status, receiver.location = 302, receiver.at("/elsewhere")
    for label, (url, expected) in cases.items():
        channel = alert_channel_create(team=team, actor=owner, kind=ChannelKind.WEBHOOK, label=label, url=url).channel
        delivery = alert_channel_test(channel=channel, actor=owner)
        deliver_alert.call(delivery.pk)
        delivery.refresh_from_db()
        assert expected in delivery.last_error, label
        assert "secret-path-token" not in delivery.last_error, label
    assert receiver.posts_to("/elsewhere") == []
    assert "secret-path-token" not in caplog.text


@pytest.mark.usefixtures("dummy_tasks")
def test_a_slow_endpoint_is_given_up_on_at_the_read_timeout(team, owner, receiver: Receiver, monkeypatch):
    monkeypatch.setattr(transports, "READ_TIMEOUT_SECONDS", 0.2)
    receiver.delay = 1.0
    channel = alert_channel_create(
        team=team, actor=owner, kind=ChannelKind.SLACK, label="#slow", url=receiver.at("/slow")
    ).channel
    delivery = alert_channel_test(channel=channel, actor=owner)
    started = timezone.now()
    deliver_alert.call(delivery.pk)
    assert (timezone.now() - started).total_seconds() < 1.0
    delivery.refresh_from_db()
    assert delivery.last_error == "No answer within 0.2 s."


def test_the_alerts_page_shows_each_failure_with_its_reason_and_next_try(
    watched, team, owner, sandbox, receiver: Receiver, failing_webhook, dummy_tasks
):
    break_integration(watched, owner, sandbox)
    project_sync(project=watched)
    delivery = AlertDelivery.objects.get()
    deliver_alert.call(delivery.pk)
    client = login(owner)

    html = client.get(f"/teams/{team.slug}/alerts/").content.decode()
    assert "Went into Error" in html and "Legacy webhook" in html
    assert "Pending" in html and "next try" in html
    assert "The endpoint answered 500 Internal Server Error: upstream exploded" in html

    for _ in range(4):
        deliver_alert.call(delivery.pk)
    html = client.get(f"/teams/{team.slug}/alerts/").content.decode()
    assert 'data-status="failed"' in html and "Failed" in html
    assert "secret-path-token" not in html
    assert len(receiver.requests) == 5  # page loads sent nothing
