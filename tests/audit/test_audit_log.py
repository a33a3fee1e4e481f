"""The team's audit log: browse with filters, export CSV, nothing editable."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEvent, Outcome
from teams.models import Membership, Project, Team
from tests.conftest import login
from tests.factories import make_integration


@pytest.fixture
def history(project: Project, owner, outsider, other_team: Team):
    make_integration(project, owner, "Amplitude prod", active=True)
    audit.record(
        action="integration.pause",
        actor=owner,
        outcome=Outcome.FAILURE,
        project=project,
        target_repr='=HYPERLINK("http://evil")',
        detail={"upstream": {"status": 503}},
        ip="10.0.0.1",
    )
    AuditEvent.objects.create(  # written 40 days ago
        action="member.role_changed",
        actor=owner,
        actor_username="alice",
        outcome=Outcome.SUCCESS,
        team=project.team,
        created_at=timezone.now() - timedelta(days=40),
    )
    audit.record(action="integration.create", actor=outsider, outcome=Outcome.SUCCESS, team=other_team)  # not ours
    audit.record(action="auth.sign_in", actor=owner, outcome=Outcome.SUCCESS)  # no team: shown by actor


def shown(html: str) -> int:
    """How many events the page lists."""
    return html.count('<tr class="audit-event">')


def audit_url(team: Team, query: str = "") -> str:
    return reverse("team_audit", kwargs={"team_slug": team.slug}) + query


@pytest.mark.django_db
def test_it_lists_the_teams_events_and_its_members_sign_ins(team: Team, owner_client: Client, history):
    html = owner_client.get(audit_url(team)).content.decode()
    assert "integration.create" in html and "integration.activate" in html and "auth.sign_in" in html
    assert "olga" not in html  # another team's event
    assert shown(html) == 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?action=integration.pause", 1),
        ("?actor=ALICE", 5),
        ("?project=Acme+iOS", 3),
        ("?until=" + (timezone.now() - timedelta(days=30)).date().isoformat(), 1),
        ("?since=" + (timezone.now() - timedelta(days=1)).date().isoformat(), 4),
    ],
)
def test_it_filters(team: Team, owner_client: Client, history, query: str, expected: int):
    html = owner_client.get(audit_url(team, query)).content.decode()
    assert shown(html) == expected


@pytest.mark.django_db
def test_it_exports_csv_with_the_filters_and_defused_formulas(team: Team, owner_client: Client, history):
    response = owner_client.get(reverse("team_audit_csv", kwargs={"team_slug": team.slug}) + "?project=Acme+iOS")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3
    pause = next(row for row in rows if row["action"] == "integration.pause")
    assert pause["target"].startswith("'=HYPERLINK")
    assert pause["ip"] == "10.0.0.1" and pause["outcome"] == "failure"
    assert '"status": 503' in pause["detail"]


@pytest.mark.django_db
def test_members_and_viewers_cannot_read_it(team: Team, member, viewer, history):
    assert login(member).get(audit_url(team)).status_code == 403
    assert login(viewer).get(audit_url(team)).status_code == 403


@pytest.mark.django_db
def test_audit_rows_cannot_be_changed_or_deleted(history):
    event = AuditEvent.objects.first()
    assert event is not None
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(action="x")


@pytest.mark.django_db
def test_the_admin_site_offers_no_edit_or_delete(admin_client: Client, history):
    event = AuditEvent.objects.first()
    assert event is not None
    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).content.decode()
    assert 'name="_save"' not in page
    assert (
        admin_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )


@pytest.mark.django_db
def test_a_deleted_teams_history_does_not_show_in_another_team(team: Team, owner, make_member, other_team: Team):
    # alice owns Acme and is a member of Globex; she deletes Acme.
    Membership.objects.create(team=other_team, user=owner, role="member")
    audit.record(
        action="invitation.sent", actor=owner, outcome=Outcome.SUCCESS, team=team, target_repr="secret@acme.test"
    )
    owner_client = login(owner)
    owner_client.post(reverse("team_delete", kwargs={"team_slug": team.slug}), {"confirm_name": "Acme"})
    audit.record(action="auth.sign_in", actor=owner, outcome=Outcome.SUCCESS)
    globex_owner = User.objects.create_user("gina")
    Membership.objects.create(team=other_team, user=globex_owner, role="owner")
    html = login(globex_owner).get(audit_url(other_team)).content.decode()
    assert "secret@acme.test" not in html and "team.deleted" not in html
    assert "auth.sign_in" in html  # her sign-ins are still visible to Globex
