"""Email alerts: to a channel's chosen members, or by default to owners and admins,
never to whoever muted alert email of the team."""

import pytest
from django.core import mail

from alerts.models import AlertDelivery, ChannelKind, DeliveryStatus
from alerts.services import AlertError, alert_channel_create, email_alerts_mute
from audit.models import AuditEvent
from integrations.sync import project_sync
from teams.models import Membership, Role
from tests.alerts.conftest import break_integration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox", "immediate_tasks")]


@pytest.fixture
def people(team, owner, make_member):
    owner.email = "alice@example.com"
    owner.save()
    cast = {"alice": owner}
    for name, role in (("adam", Role.ADMIN), ("bob", Role.MEMBER), ("vera", Role.VIEWER)):
        cast[name] = make_member(name, role)
        cast[name].email = f"{name}@example.com"
        cast[name].save()
    return cast


def membership(user) -> Membership:
    return Membership.objects.get(user=user)


def test_an_email_channel_mails_its_chosen_members_minus_those_who_muted(watched, team, people, sandbox):
    chosen = [membership(people[name]) for name in ("bob", "vera", "adam")]
    alert_channel_create(team=team, actor=people["alice"], kind=ChannelKind.EMAIL, label="On call", members=chosen)
    email_alerts_mute(team=team, user=people["adam"], muted=True)

    break_integration(watched, people["alice"], sandbox)
    project_sync(project=watched)

    [message] = mail.outbox
    assert sorted(message.to) == ["bob@example.com", "vera@example.com"]  # not alice: not chosen; not adam: muted
    assert "\n" not in message.subject
    assert "401 from endpoint: bad key" in message.body
    assert "Mute email alerts for me" in message.body


def test_without_channels_owners_and_admins_get_email_minus_those_who_muted(watched, team, people, sandbox):
    email_alerts_mute(team=team, user=people["alice"], muted=True)
    break_integration(watched, people["alice"], sandbox)
    project_sync(project=watched)
    [message] = mail.outbox
    assert message.to == ["adam@example.com"]
    assert AlertDelivery.objects.get().channel is None


def test_unmuting_brings_the_email_back(watched, team, people, sandbox):
    email_alerts_mute(team=team, user=people["alice"], muted=True)
    email_alerts_mute(team=team, user=people["alice"], muted=False)
    break_integration(watched, people["alice"], sandbox)
    project_sync(project=watched)
    assert sorted(mail.outbox[0].to) == ["adam@example.com", "alice@example.com"]
    actions = list(
        AuditEvent.objects.filter(action__startswith="alert.").order_by("pk").values_list("action", "actor_username")
    )
    assert actions == [("alert.mute", "alice"), ("alert.unmute", "alice")]


def test_when_everyone_muted_nothing_is_sent_and_the_page_says_why(watched, team, people, sandbox):
    for name in ("alice", "adam"):
        email_alerts_mute(team=team, user=people[name], muted=True)
    break_integration(watched, people["alice"], sandbox)
    project_sync(project=watched)
    assert mail.outbox == []
    delivery = AlertDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SKIPPED
    assert delivery.get_status_display() == "Nobody to email"


def test_a_mute_in_one_team_does_not_mute_another(watched, team, other_team, people, sandbox):
    email_alerts_mute(team=other_team, user=people["alice"], muted=True)
    break_integration(watched, people["alice"], sandbox)
    project_sync(project=watched)
    assert "alice@example.com" in mail.outbox[0].to


def test_an_email_channel_needs_members_of_its_own_team(team, other_team, owner, outsider):
    with pytest.raises(AlertError, match="at least one member"):
        alert_channel_create(team=team, actor=owner, kind=ChannelKind.EMAIL, label="Nobody", members=[])
    with pytest.raises(AlertError, match="members of this team"):
        alert_channel_create(
            team=team, actor=owner, kind=ChannelKind.EMAIL, label="Stranger", members=[membership(outsider)]
        )
