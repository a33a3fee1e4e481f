"""Deleting a user, a team or a project changes no audit row: every row keeps the ids
and names it recorded, and the team's log, its CSV and Django admin still show them.

The deletions commit for real (transactional tests), as they do in production: a
foreign key left on the audit table would refuse them on PostgreSQL."""

import csv
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from audit import services as audit
from audit.models import AuditEvent, Outcome
from teams.models import Membership, Project, Role, Team
from teams.project_services import project_delete, team_delete
from tests.conftest import login


def rows(ids: list[int] | None = None) -> list[dict[str, Any]]:
    events = AuditEvent.objects.order_by("pk")
    return list((events.filter(pk__in=ids) if ids is not None else events).values())


def make_project(team: Team, name: str, key: str) -> Project:
    project = Project(team=team, name=name)
    project.set_secret_key(key)
    project.save()
    return project


@dataclass
class Story:
    """Acme (alice owns it, bob is an admin) and Globex (gina owns it, bob is a member),
    each with projects, and audit events that name all of them."""

    acme: Team
    globex: Team
    alice: User
    bob: User
    gina: User
    acme_ios: Project
    globex_web: Project
    globex_app: Project


@pytest.fixture
def story(team: Team, other_team: Team, owner: User, make_member: Any) -> Story:
    bob = make_member("bob", Role.ADMIN)
    Membership.objects.create(team=other_team, user=bob, role=Role.MEMBER)
    gina = make_member("gina", Role.OWNER, other_team)
    story = Story(
        acme=team,
        globex=other_team,
        alice=owner,
        bob=bob,
        gina=gina,
        acme_ios=make_project(team, "Acme iOS", "test_sk_acme_ios_key_0001"),
        globex_web=make_project(other_team, "Globex Web", "sk_globex_web_key_0002"),
        globex_app=make_project(other_team, "Globex App", "sk_globex_app_key_0003"),
    )
    record = audit.record
    record(action="project.key_replaced", actor=bob, outcome=Outcome.SUCCESS, project=story.acme_ios)
    record(action="member.role_changed", actor=owner, outcome=Outcome.SUCCESS, team=team, target_repr="bob")
    record(
        action="integration.create",
        actor=bob,
        outcome=Outcome.SUCCESS,
        project=story.globex_web,
        target_type="integration",
        target_id="int_web_1",
        target_repr="Slack alerts",
    )
    record(action="integration.pause", actor=gina, outcome=Outcome.UNKNOWN, project=story.globex_app)
    record(action="auth.sign_in", actor=bob, outcome=Outcome.SUCCESS, ip="203.0.113.9")
    return story


def delete_all(story: Story) -> None:
    project_delete(project=story.globex_web, actor=story.gina)
    team_delete(team=story.acme, actor=story.alice)
    story.bob.delete()


@pytest.mark.django_db(transaction=True)
def test_it_records_the_names_beside_the_ids(story: Story):
    event = AuditEvent.objects.get(action="project.key_replaced")
    assert (event.actor_id, event.actor_username) == (story.bob.pk, "bob")
    assert (event.team_id, event.team_name) == (story.acme.pk, "Acme")
    assert (event.project_id, event.project_name) == (story.acme_ios.pk, "Acme iOS")
    sign_in = AuditEvent.objects.get(action="auth.sign_in")
    assert (sign_in.team_id, sign_in.team_name, sign_in.project_name) == (None, "", "")


@pytest.mark.django_db(transaction=True)
def test_deleting_a_project_a_team_or_a_user_changes_no_audit_row(story: Story):
    before = rows()
    ids = [row["id"] for row in before]
    web_id, acme_id, bob_id = story.globex_web.pk, story.acme.pk, story.bob.pk

    project_delete(project=story.globex_web, actor=story.gina)
    assert rows(ids) == before
    gone_project = AuditEvent.objects.get(action="project.deleted")
    assert (gone_project.project_id, gone_project.project_name) == (web_id, "Globex Web")
    assert (gone_project.team_id, gone_project.team_name) == (story.globex.pk, "Globex")

    before = rows()
    ids = [row["id"] for row in before]
    team_delete(team=story.acme, actor=story.alice)
    assert not Team.objects.filter(pk=acme_id).exists()
    assert rows(ids) == before
    gone_team = AuditEvent.objects.get(action="team.deleted")
    assert (gone_team.team_id, gone_team.team_name, gone_team.actor_username) == (acme_id, "Acme", "alice")

    before = rows()
    story.bob.delete()
    assert not User.objects.filter(pk=bob_id).exists()
    assert rows() == before
    assert AuditEvent.objects.filter(actor_id=bob_id, actor_username="bob").count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_surviving_teams_log_and_csv_still_show_what_was_deleted(story: Story):
    delete_all(story)
    gina = login(story.gina)

    html = gina.get(reverse("team_audit", kwargs={"team_slug": "globex"})).content.decode()
    assert html.count('<tr class="audit-event">') == 3  # the create, the pause and the project's deletion
    assert "Globex Web" in html and "Slack alerts" in html and "bob" in html
    assert "Acme" not in html and "team.deleted" not in html and "member.role_changed" not in html

    response = gina.get(reverse("team_audit_csv", kwargs={"team_slug": "globex"}))
    exported = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    create = next(row for row in exported if row["action"] == "integration.create")
    assert (create["actor"], create["project"], create["target"]) == ("bob", "Globex Web", "Slack alerts")
    assert {row["action"] for row in exported} == {"integration.create", "integration.pause", "project.deleted"}


@pytest.mark.django_db(transaction=True)
def test_django_admin_shows_rows_whose_actor_team_and_project_are_gone(story: Story):
    acme_id, ios_id, bob_id = story.acme.pk, story.acme_ios.pk, story.bob.pk
    delete_all(story)
    root = login(User.objects.create_superuser("root", password="password"))

    listing = root.get(reverse("admin:audit_auditevent_changelist"))
    assert listing.status_code == 200
    assert "project.key_replaced" in listing.content.decode()

    event = AuditEvent.objects.get(action="project.key_replaced")
    page = root.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for recorded in ("bob", "Acme", "Acme iOS", str(acme_id), str(ios_id), str(bob_id)):
        assert f'<div class="readonly">{recorded}</div>' in html
