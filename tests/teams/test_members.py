"""Members and invitations: who joins, with which role, and the team keeps an owner."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from teams.membership_services import token_hash
from teams.models import Invitation, Membership, Role, Team
from tests.conftest import login


def members_url(team: Team) -> str:
    return reverse("team_members", kwargs={"team_slug": team.slug})


def invite(client: Client, team: Team, email: str = "new@example.com", role: str = "member"):
    return client.post(members_url(team), {"email": email, "role": role}, follow=True)


def link_from_last_email() -> str:
    match = re.search(r"http://testserver/invitations/[\w-]+/", mail.outbox[-1].body)
    assert match is not None, mail.outbox[-1].body
    return match.group(0).removeprefix("http://testserver")


@pytest.mark.django_db
def test_an_admin_invites_by_email_with_a_single_use_link(team: Team, owner, owner_client: Client):
    response = invite(owner_client, team)
    assert "Invitation sent to new@example.com" in response.content.decode()
    assert mail.outbox[-1].to == ["new@example.com"]
    assert "Acme" in mail.outbox[-1].subject
    link = link_from_last_email()
    invitation = Invitation.objects.get()
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash  # only the hash is stored
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert AuditEvent.objects.get(action="invitation.sent").actor == owner


@pytest.mark.django_db
def test_a_new_person_creates_an_account_and_joins(team: Team, owner_client: Client, client: Client):
    invite(owner_client, team, role="viewer")
    link = link_from_last_email()
    page = client.get(link).content.decode()
    assert "You are invited to Acme on qonadmin as <strong>Viewer</strong>" in page
    response = client.post(
        link,
        {"username": "newbie", "password1": "a-long-pass-phrase-1", "password2": "a-long-pass-phrase-1"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("team_detail", kwargs={"team_slug": "acme"})
    user = User.objects.get(username="newbie")
    assert user.email == "new@example.com"
    assert Membership.objects.get(user=user, team=team).role == Role.VIEWER
    # Single use: the same link no longer works.
    assert Client().get(link).status_code == 404
    assert AuditEvent.objects.get(action="invitation.accepted").actor == user


@pytest.mark.django_db
def test_an_existing_user_joins_a_second_team(team: Team, owner_client: Client, outsider):
    invite(owner_client, team, email="olga@example.com")
    link = link_from_last_email()
    client = login(outsider)
    assert "Join Acme as olga" in client.get(link).content.decode()
    client.post(link)
    assert set(Membership.objects.filter(user=outsider).values_list("team__slug", flat=True)) == {"acme", "globex"}
    # Several teams: the landing page lets them pick.
    assert "Globex" in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_an_expired_or_revoked_link_does_not_work(team: Team, owner_client: Client, client: Client):
    invite(owner_client, team)
    link = link_from_last_email()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "does not work" in client.get(link).content.decode()
    invitation = Invitation.objects.get()
    owner_client.post(reverse("invitation_resend", kwargs={"team_slug": team.slug, "invitation_id": invitation.pk}))
    fresh = link_from_last_email()
    assert fresh != link
    assert client.get(link).status_code == 404  # the old link died with the resend
    assert client.get(fresh).status_code == 200
    owner_client.post(reverse("invitation_revoke", kwargs={"team_slug": team.slug, "invitation_id": invitation.pk}))
    assert client.get(fresh).status_code == 404


@pytest.mark.django_db
def test_it_refuses_to_invite_a_member_twice(team: Team, owner, owner_client: Client):
    owner.email = "alice@example.com"
    owner.save()
    assert "already a member" in invite(owner_client, team, email="ALICE@example.com").content.decode()
    invite(owner_client, team, email="bob@example.com")
    assert "already has a pending invitation" in invite(owner_client, team, email="bob@example.com").content.decode()


@pytest.mark.django_db
def test_only_an_owner_may_invite_an_owner(team: Team, make_member):
    admin = login(make_member("adam", Role.ADMIN))
    assert "Only an owner can make someone an owner." in invite(admin, team, role="owner").content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_roles_change_and_the_last_owner_stays(team: Team, owner, owner_client: Client, member):
    membership = Membership.objects.get(user=member)
    owner_client.post(
        reverse("member_role", kwargs={"team_slug": team.slug, "membership_id": membership.pk}), {"role": "admin"}
    )
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.detail == {"before": {"role": "member"}, "after": {"role": "admin"}}
    own = Membership.objects.get(user=owner)
    response = owner_client.post(
        reverse("member_remove", kwargs={"team_slug": team.slug, "membership_id": own.pk}), follow=True
    )
    assert "must keep at least one owner" in response.content.decode()
    assert Membership.objects.filter(user=owner, role=Role.OWNER).exists()


@pytest.mark.django_db
def test_an_admin_cannot_demote_or_remove_an_owner(team: Team, owner, make_member):
    admin = login(make_member("adam", Role.ADMIN))
    own = Membership.objects.get(user=owner)
    url = reverse("member_role", kwargs={"team_slug": team.slug, "membership_id": own.pk})
    assert (
        "Only an owner can make or unmake owners." in admin.post(url, {"role": "viewer"}, follow=True).content.decode()
    )
    url = reverse("member_remove", kwargs={"team_slug": team.slug, "membership_id": own.pk})
    assert "Only an owner can remove an owner." in admin.post(url, follow=True).content.decode()
    assert Membership.objects.get(pk=own.pk).role == Role.OWNER


@pytest.mark.django_db
def test_an_admin_removes_a_member_and_anyone_may_leave(team: Team, owner_client: Client, member, viewer):
    url = reverse(
        "member_remove", kwargs={"team_slug": team.slug, "membership_id": Membership.objects.get(user=member).pk}
    )
    owner_client.post(url)
    assert not Membership.objects.filter(user=member).exists()
    own = Membership.objects.get(user=viewer)
    response = login(viewer).post(reverse("member_remove", kwargs={"team_slug": team.slug, "membership_id": own.pk}))
    assert response.status_code == 302
    assert not Membership.objects.filter(user=viewer).exists()
    assert AuditEvent.objects.filter(action="member.left").count() == 1


@pytest.mark.django_db
def test_viewers_see_the_list_without_controls(team: Team, owner, viewer):
    html = login(viewer).get(members_url(team)).content.decode()
    assert "alice" in html
    assert "Send invitation" not in html and "Change role" not in html and ">Remove<" not in html


@pytest.mark.django_db
def test_an_admin_cannot_revive_an_owner_invitation(team: Team, owner_client: Client, make_member):
    invite(owner_client, team, email="boss@example.com", role="owner")
    invitation = Invitation.objects.get()
    owner_client.post(reverse("invitation_revoke", kwargs={"team_slug": team.slug, "invitation_id": invitation.pk}))
    admin = login(make_member("adam", Role.ADMIN))
    url = reverse("invitation_resend", kwargs={"team_slug": team.slug, "invitation_id": invitation.pk})
    assert "Only an owner can make someone an owner." in admin.post(url, follow=True).content.decode()
    assert "was revoked" in owner_client.post(url, follow=True).content.decode()
    assert Invitation.objects.get().revoked_at is not None


@pytest.mark.django_db
def test_an_elevated_invitation_only_works_for_its_email(team: Team, owner_client: Client, outsider):
    invite(owner_client, team, email="boss@example.com", role="admin")
    link = link_from_last_email()
    client = login(outsider)  # olga has another (empty) email address
    response = client.post(link, follow=True)
    # The link alone is not enough: a code goes to the invited address, not to olga.
    assert "Enter the code we sent to b…@example.com" in response.content.decode()
    assert mail.outbox[-1].to == ["boss@example.com"]
    assert not Membership.objects.filter(user=outsider, team=team).exists()


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(team: Team, owner, make_member):
    import threading

    from django.db import connection

    second = make_member("oscar", Role.OWNER)
    mine, theirs = Membership.objects.get(user=owner), Membership.objects.get(user=second)
    barrier = threading.Barrier(2)

    def demote(actor: User, target: Membership) -> None:
        from teams.membership_services import MembershipError, member_change_role

        barrier.wait()
        try:
            member_change_role(membership=target, actor=actor, role=Role.ADMIN)
        except MembershipError:
            pass
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(owner, theirs)),
        threading.Thread(target=demote, args=(second, mine)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Membership.objects.filter(team=team, role=Role.OWNER).count() == 1
