"""What a superuser changes in Django admin (users, groups, two-factor devices) lands in
the audit log: who did it, to what, and Django admin's own description of the change."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from teams.models import Membership, Role, Team
from tests.conftest import login


@pytest.fixture
def root(db: None) -> User:
    return User.objects.create_superuser("root", email="root@example.test", password="password")


def admin_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith="admin.").order_by("pk"))


def change_form(user: User, **changes: str) -> dict[str, str]:
    """The admin change form of a user as the browser submits it, with some fields changed."""
    joined = user.date_joined
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "initial-date_joined_0": joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": joined.strftime("%H:%M:%S"),
    }
    return {**data, **changes}


def test_changing_a_users_email_in_admin_is_audited(root: User):
    alice = User.objects.create_user("alice", email="alice@old.example.test", password="password")
    client = login(root)
    response = client.post(
        reverse("admin:auth_user_change", args=[alice.pk]), change_form(alice, email="alice@new.example.test")
    )
    assert response.status_code == 302, response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@new.example.test"

    [event] = admin_events()
    assert (event.action, event.outcome) == ("admin.change", "success")
    assert (event.actor_id, event.actor_username) == (root.pk, "root")
    assert (event.target_type, event.target_id, event.target_repr) == ("auth.user", str(alice.pk), "alice")
    assert event.detail == {"change": "Changed Email address."}
    assert (event.team_id, event.team_name, event.project_id) == (None, "", None)


def test_deleting_a_user_in_admin_is_audited(root: User):
    bob = User.objects.create_user("bob", password="password")
    bob_id = bob.pk
    response = login(root).post(reverse("admin:auth_user_delete", args=[bob_id]), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=bob_id).exists()

    [event] = admin_events()
    assert (event.action, event.actor_id, event.actor_username) == ("admin.delete", root.pk, "root")
    assert (event.target_type, event.target_id, event.target_repr) == ("auth.user", str(bob_id), "bob")


def test_deleting_several_users_at_once_audits_each(root: User):
    users = [User.objects.create_user(name) for name in ("carol", "dave", "erin")]
    response = login(root).post(
        reverse("admin:auth_user_changelist"),
        {"action": "delete_selected", "_selected_action": [str(user.pk) for user in users], "post": "yes"},
    )
    assert response.status_code == 302
    assert not User.objects.filter(username__in=["carol", "dave", "erin"]).exists()
    assert [(event.action, event.target_repr) for event in admin_events()] == [
        ("admin.delete", "carol"),
        ("admin.delete", "dave"),
        ("admin.delete", "erin"),
    ]


def test_a_superusers_admin_changes_stay_out_of_their_teams_log(root: User, team: Team):
    Membership.objects.create(team=team, user=root, role=Role.OWNER)
    bob = User.objects.create_user("bob")
    client = login(root)
    client.post(reverse("admin:auth_user_delete", args=[bob.pk]), {"post": "yes"})
    assert len(admin_events()) == 1
    html = client.get(reverse("team_audit", kwargs={"team_slug": team.slug})).content.decode()
    assert "admin.delete" not in html and "No events match" in html


def test_the_admin_change_page_still_refuses_qonadmin_models(root: User, team: Team):
    client: Client = login(root)
    response = client.post(reverse("admin:teams_team_change", args=[team.pk]), {"name": "Renamed"})
    assert response.status_code == 403
    assert admin_events() == []
