"""The team's Alerts page: who may see and change what, adding channels (the webhook
secret shown once, URLs only masked afterwards), test alerts, removing, muting."""

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from alerts.models import AlertChannel, AlertDelivery, ChannelKind, EmailAlertMute
from alerts.services import alert_channel_create
from audit.models import AuditEvent
from teams.models import Membership, Role
from tests.alerts.receiver import Receiver
from tests.conftest import HTMX, login

SLACK_URL = "https://hooks.slack.com/services/T0ACME/B0OPS/abcdefghijklmnopqrstWXYZ"


def page(team_slug: str = "acme") -> str:
    return reverse("team_alerts", kwargs={"team_slug": team_slug})


def url(name: str) -> str:
    return reverse(name, kwargs={"team_slug": "acme"})


@pytest.fixture
def admin(make_member) -> User:
    return make_member("adam", Role.ADMIN)


@pytest.fixture
def slack(team, owner) -> AlertChannel:
    return alert_channel_create(team=team, actor=owner, kind=ChannelKind.SLACK, label="#ops", url=SLACK_URL).channel


def add(client: Client, kind: str, **fields: object):
    return client.post(page(), {"kind": kind, **fields})


# ---- who may do what ---------------------------------------------------------------------


@pytest.mark.django_db
def test_an_outsider_gets_404_for_everything(outsider, slack):
    client = login(outsider)
    assert client.get(page()).status_code == 404
    assert add(client, "slack", label="x", url=SLACK_URL).status_code == 404
    for name in ("team_alert_channel_test", "team_alert_channel_remove", "team_alert_channel_enabled"):
        assert client.post(url(name), {"channel": slack.pk, "enabled": "off"}).status_code == 404, name
    assert client.post(url("team_alerts_mute"), {"muted": "yes"}).status_code == 404
    assert AlertChannel.objects.count() == 1
    assert not EmailAlertMute.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER])
def test_viewers_and_members_see_the_page_read_only_and_may_only_mute_themselves(make_member, slack, role):
    user = make_member(f"someone-{role}", role)
    client = login(user)
    html = client.get(page()).content.decode()
    assert "#ops" in html and "https://hooks.slack.com/…/WXYZ" in html
    for control in ("Add a channel", "Send test alert", "Remove", "Turn off"):
        assert control not in html, control
    assert "Mute email alerts for me" in html

    assert add(client, "slack", label="mine", url=SLACK_URL).status_code == 403
    for name in ("team_alert_channel_test", "team_alert_channel_remove", "team_alert_channel_enabled"):
        assert client.post(url(name), {"channel": slack.pk, "enabled": "off"}).status_code == 403, name
    assert list(AlertChannel.objects.values_list("label", "enabled")) == [("#ops", True)]
    assert not AlertDelivery.objects.exists()

    assert client.post(url("team_alerts_mute"), {"muted": "yes"}).status_code == 302
    assert list(EmailAlertMute.objects.values_list("user__username", flat=True)) == [user.username]
    assert "Unmute email alerts for me" in client.get(page()).content.decode()


@pytest.mark.django_db
def test_a_channel_of_another_team_is_404_even_for_an_admin(other_team, admin, outsider):
    theirs = alert_channel_create(
        team=other_team, actor=outsider, kind=ChannelKind.SLACK, label="#theirs", url=SLACK_URL
    ).channel
    client = login(admin)
    for name in ("team_alert_channel_test", "team_alert_channel_remove", "team_alert_channel_enabled"):
        for channel in (theirs.pk, "999999", "not-a-number", ""):
            response = client.post(url(name), {"channel": channel, "enabled": "off"})
            assert response.status_code == 404, (name, channel)
    assert AlertChannel.objects.get().enabled


# ---- adding channels ---------------------------------------------------------------------


@pytest.mark.django_db
def test_no_channels_yet_says_who_gets_email(team, owner, admin, member):
    html = login(member).get(page()).content.decode()
    assert "No channels yet: owners and admins get email" in html
    assert "adam" in html.split("No channels yet", 1)[1].split("</p>", 1)[0]


@pytest.mark.django_db
def test_an_admin_adds_a_webhook_and_sees_its_secret_once(team, admin, receiver: Receiver):
    client = login(admin)
    target = receiver.at("/hooks/acme/s3cr3t-path-token")
    response = add(client, "webhook", label="Ops webhook", url=target)
    assert response.status_code == 200
    html = response.content.decode()
    channel = AlertChannel.objects.get()
    secret = channel.secret()
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", secret)
    assert html.count(secret) == 2  # shown, and on its Copy button
    assert "it is shown this once" in html
    assert "s3cr3t-path-token" not in html

    later = client.get(page()).content.decode()
    assert secret not in later
    assert "s3cr3t-path-token" not in later
    assert f"{receiver.url}/…/oken" in later
    assert channel.target() == target


@pytest.mark.django_db
def test_a_slack_url_is_only_ever_shown_masked(team, admin):
    client = login(admin)
    response = add(client, "slack", label="#ops", url=SLACK_URL)
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Added the Slack channel “#ops”." in html
    assert "https://hooks.slack.com/…/WXYZ" in html
    assert "T0ACME" not in html and "abcdefghij" not in html


@pytest.mark.django_db
def test_an_email_channel_is_added_with_the_chosen_members(team, owner, admin, member):
    client = login(admin)
    chosen = [Membership.objects.get(user=u).pk for u in (owner, member)]
    response = add(client, "email", label="On call", members=chosen)
    assert response.status_code == 302
    channel = AlertChannel.objects.get()
    assert sorted(m.user.username for m in channel.members.all()) == ["alice", "bob"]
    assert "alice, bob" in client.get(page()).content.decode()


@pytest.mark.django_db
def test_a_bad_channel_comes_back_with_the_reason_and_what_was_typed(team, admin, slack):
    client = login(admin)
    html = add(client, "webhook", label="Ops", url="ftp://example.com/x").content.decode()
    assert "Enter a full http:// or https:// URL." in html
    assert 'value="Ops"' in html and '<details class="add-channel" open>' in html
    html = add(client, "slack", label="#OPS", url=SLACK_URL).content.decode()
    assert "Acme already has an alert channel called “#OPS”." in html
    html = add(client, "email", label="Nobody").content.decode()
    assert "Choose at least one member to email." in html
    assert add(client, "pager", label="x").status_code == 400
    assert AlertChannel.objects.count() == 1


# ---- test, turn off, remove ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_send_test_alert_queues_a_task_and_sends_nothing_in_the_request(team, admin, receiver: Receiver):
    channel = alert_channel_create(
        team=team, actor=admin, kind=ChannelKind.WEBHOOK, label="Ops", url=receiver.at("/hook")
    ).channel
    client = login(admin)
    response = client.post(url("team_alert_channel_test"), {"channel": channel.pk})
    assert response.status_code == 302
    assert receiver.requests == []
    delivery = AlertDelivery.objects.get()
    assert (delivery.event, delivery.status, delivery.channel) == ("test", "pending", channel)
    assert DBTaskResult.objects.get().args_kwargs["args"] == [delivery.pk]
    html = client.get(page()).content.decode()
    assert "Test alert" in html and "queued" in html
    assert 'hx-trigger="every 5s"' in html  # the list refreshes itself until the worker is done
    fragment = client.get(page() + "?fragment=deliveries", **HTMX).content.decode()
    assert fragment.lstrip().startswith('<section id="alert-deliveries"')
    assert receiver.requests == []  # nor do page loads


@pytest.mark.django_db
def test_turning_a_channel_off_and_on(team, admin, slack):
    client = login(admin)
    client.post(url("team_alert_channel_enabled"), {"channel": slack.pk, "enabled": "off"})
    slack.refresh_from_db()
    assert not slack.enabled
    assert "Every channel is off: no alerts are sent." in client.get(page()).content.decode()
    client.post(url("team_alert_channel_enabled"), {"channel": slack.pk, "enabled": "on"})
    slack.refresh_from_db()
    assert slack.enabled


@pytest.mark.django_db
def test_removing_a_channel(team, admin, slack):
    client = login(admin)
    response = client.post(url("team_alert_channel_remove"), {"channel": slack.pk})
    assert response.status_code == 302
    assert not AlertChannel.objects.exists()
    assert "No channels yet" in client.get(page()).content.decode()


@pytest.mark.django_db
def test_every_change_is_audited_without_url_or_secret(team, admin, receiver: Receiver, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    client = login(admin)
    add(client, "webhook", label="Ops", url=receiver.at("/hooks/s3cr3t-path-token"))
    channel = AlertChannel.objects.get()
    secret = channel.secret()
    client.post(url("team_alert_channel_test"), {"channel": channel.pk})
    client.post(url("team_alert_channel_enabled"), {"channel": channel.pk, "enabled": "off"})
    client.post(url("team_alert_channel_remove"), {"channel": channel.pk})
    client.post(url("team_alerts_mute"), {"muted": "yes"})
    events = list(AuditEvent.objects.order_by("pk").values_list("action", "actor_username", "target_repr", "detail"))
    assert [e[:3] for e in events] == [
        ("alert_channel.created", "adam", "Ops"),
        ("alert_channel.test_sent", "adam", "Ops"),
        ("alert_channel.disabled", "adam", "Ops"),
        ("alert_channel.removed", "adam", "Ops"),
        ("alert.mute", "adam", "adam"),
    ]
    assert events[0][3] == {"kind": "webhook", "label": "Ops"}
    dumped = str(events)
    assert "s3cr3t" not in dumped and secret not in dumped and "127.0.0.1" not in dumped


# ---- query budget ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_with_many_channels_and_alerts(team, owner, admin, member):
    def queries() -> int:
        client = login(admin)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page()).status_code == 200
        return len(captured)

    members = list(Membership.objects.filter(team=team))
    alert_channel_create(team=team, actor=owner, kind=ChannelKind.EMAIL, label="e0", members=members)
    AlertDelivery.objects.create(team=team, channel=AlertChannel.objects.get(), event="test")
    few = queries()
    for n in range(1, 6):
        channel = alert_channel_create(team=team, actor=owner, kind=ChannelKind.EMAIL, label=f"e{n}", members=members)
        for _ in range(5):
            AlertDelivery.objects.create(team=team, channel=channel.channel, event="test")
    assert queries() == few
