"""`python manage.py add_alert_channel TEAM_SLUG {email|slack|webhook} TARGET` for ops automation."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from alerts.models import AlertChannel
from audit.models import AuditEvent
from teams.models import Role

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("add_alert_channel", *args, stdout=out)
    return out.getvalue()


def test_a_webhook_prints_its_masked_url_and_its_secret_once(team):
    out = run("acme", "webhook", "https://alerts.example.com/in/token-abcd")
    channel = AlertChannel.objects.get()
    secret = channel.secret()
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", secret)
    assert out.count(secret) == 1
    assert "Added the Webhook channel “Webhook” to Acme: https://alerts.example.com/…/abcd." in out
    assert "token-abcd" not in out
    event = AuditEvent.objects.get(action="alert_channel.created")
    assert (event.actor_username, event.team_name, event.detail) == (
        "",
        "Acme",
        {"kind": "webhook", "label": "Webhook"},
    )


def test_a_slack_channel_gets_a_free_name_and_no_secret(team):
    run("acme", "slack", "https://hooks.slack.com/services/T0/B0/one1")
    out = run("acme", "slack", "https://hooks.slack.com/services/T0/B0/two2", "--label", "")
    assert "Signing secret" not in out
    assert sorted(AlertChannel.objects.values_list("label", flat=True)) == ["Slack", "Slack 2"]


def test_an_email_channel_names_members_by_username_or_email(team, owner, make_member):
    bob = make_member("bob", Role.MEMBER)
    bob.email = "Bob@Example.com"
    bob.save()
    out = run("acme", "email", "alice, bob@example.com", "--label", "On call")
    channel = AlertChannel.objects.get()
    assert sorted(m.user.username for m in channel.members.all()) == ["alice", "bob"]
    assert "Added the Email channel “On call” to Acme: alice, bob." in out


def test_mistakes_are_refused_with_what_is_wrong(team, owner, outsider):
    cases = [
        (("nope", "slack", "https://hooks.slack.com/x"), "No team with the slug 'nope'"),
        (("acme", "email", "alice,olga"), "Not exactly one member of Acme: olga."),
        (("acme", "email", " , "), "Name at least one team member"),
        (("acme", "webhook", "not a url"), "Enter a full http:// or https:// URL."),
        (("acme", "webhook", "javascript:alert(1)"), "Enter a full http:// or https:// URL."),
    ]
    for args, message in cases:
        with pytest.raises(CommandError, match=re.escape(message)):
            run(*args)
    with pytest.raises(CommandError):
        run("acme", "pager", "x")
    assert not AlertChannel.objects.exists()
