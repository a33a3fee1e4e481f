"""What a webhook and a Slack channel receive, on a real HTTP endpoint on 127.0.0.1,
when a refresh sees an integration break and when it recovers."""

import hashlib
import hmac

import pytest
from django.test import override_settings

from alerts.models import AlertDelivery, ChannelKind, DeliveryStatus
from alerts.services import alert_channel_create
from integrations.services import integration_set_status
from integrations.sync import project_sync
from tests.alerts.conftest import IMMEDIATE_TASKS, break_integration
from tests.alerts.receiver import Receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@override_settings(TASKS=IMMEDIATE_TASKS, QONADMIN_BASE_URL="https://qonadmin.example.com")
def test_a_webhook_gets_the_documented_body_signed_with_its_secret(watched, team, owner, sandbox, receiver: Receiver):
    created = alert_channel_create(
        team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ops", url=receiver.at("/hook")
    )
    integration = break_integration(watched, owner, sandbox)
    project_sync(project=watched)

    [post] = receiver.posts_to("/hook")
    assert post.json() == {
        "event": "integration.error",
        "integration": {
            "id": integration.qonversion_id,
            "title": "Legacy webhook",
            "provider": "Slack",
            "platform": "iOS",
        },
        "project": {"name": "Acme iOS"},
        "team": {"slug": "acme"},
        "last_error_message": "401 from endpoint: bad key",
        "delivery_error_count": 5,
        "url": f"https://qonadmin.example.com/projects/{watched.pk}/integrations/{integration.pk}/",
    }
    assert created.secret.startswith("whsec_")
    assert post.headers["X-Qonadmin-Signature"] == expected_signature(created.secret, post.body)
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["X-Qonadmin-Event"] == "integration.error"
    # The receiver checks the signature with the secret it was given, over the raw body.
    forged = post.body.replace(b"Legacy webhook", b"Other webhook")
    assert post.headers["X-Qonadmin-Signature"] != expected_signature(created.secret, forged)
    assert AlertDelivery.objects.get().status == DeliveryStatus.SENT


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_a_webhook_is_told_when_the_integration_recovers(watched, team, owner, sandbox, receiver: Receiver):
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ops", url=receiver.at("/hook"))
    integration = break_integration(watched, owner, sandbox)
    project_sync(project=watched)
    integration.refresh_from_db()
    integration_set_status(integration=integration, actor=owner, active=True)

    events = [post.json()["event"] for post in receiver.posts_to("/hook")]
    assert events == ["integration.error", "integration.recovered"]
    recovered = receiver.posts_to("/hook")[1].json()
    assert recovered["url"] is None  # no QONADMIN_BASE_URL: no link to make
    assert recovered["integration"]["id"] == integration.qonversion_id


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_two_channels_of_different_teams_get_only_their_own_alerts(
    watched, team, other_team, owner, sandbox, receiver: Receiver
):
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ours", url=receiver.at("/acme"))
    alert_channel_create(
        team=other_team, actor=None, kind=ChannelKind.WEBHOOK, label="Theirs", url=receiver.at("/globex")
    )
    break_integration(watched, owner, sandbox)
    project_sync(project=watched)
    assert len(receiver.posts_to("/acme")) == 1
    assert receiver.posts_to("/globex") == []


@override_settings(TASKS=IMMEDIATE_TASKS, QONADMIN_BASE_URL="https://qonadmin.example.com")
def test_slack_gets_one_text_message_with_names_shown_literally(watched, team, owner, sandbox, receiver: Receiver):
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.SLACK, label="#ops", url=receiver.at("/services/T0"))
    integration = break_integration(watched, owner, sandbox, title="Amplitude <!channel> & co")
    project_sync(project=watched)

    [post] = receiver.posts_to("/services/T0")
    payload = post.json()
    assert list(payload) == ["text"]
    text = payload["text"]
    assert "*Amplitude &lt;!channel&gt; &amp; co* (Slack, iOS) in Acme iOS (Acme) went into Error" in text
    assert "after 5 failed deliveries" in text
    assert "Last error: 401 from endpoint: bad key" in text
    assert (
        f"<https://qonadmin.example.com/projects/{watched.pk}/integrations/{integration.pk}/|Open in qonadmin>" in text
    )
    assert "<!channel>" not in text  # an upstream title cannot ping a whole Slack channel
    assert "X-Qonadmin-Signature" not in post.headers  # Slack URLs carry their own credential


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_a_turned_off_channel_gets_nothing(watched, team, owner, sandbox, receiver: Receiver):
    created = alert_channel_create(team=team, actor=owner, kind=ChannelKind.WEBHOOK, label="Ops", url=receiver.at("/h"))
    created.channel.enabled = False
    created.channel.save()
    break_integration(watched, owner, sandbox)
    project_sync(project=watched)
    assert receiver.requests == []
    assert not AlertDelivery.objects.exists()
