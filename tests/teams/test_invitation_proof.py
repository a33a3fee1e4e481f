"""Admin and owner invitations need a code mailed to the invited address: a forwarded
link makes no one an admin or owner. Member and viewer invitations need the link only."""

import json
import re
import time

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEvent
from qonadmin.mail import send_sealed_email
from teams.membership_services import MAX_CODES_PER_HOUR, MAX_WRONG_CODES
from teams.models import Invitation, Membership, Role, Team
from teams.views.invitations import CODE_SESSION_KEY
from tests.conftest import login
from tests.teams.test_members import invite, link_from_last_email

PASSWORD = "a-long-pass-phrase-1"
TEAM_PAGE = "/teams/acme/"


def sign_up(client: Client, link: str, username: str = "mallory", password: str = PASSWORD):
    return client.post(link, {"username": username, "password1": password, "password2": password})


def code_from_last_email() -> str:
    match = re.search(r"^(\d{6})$", mail.outbox[-1].body, re.MULTILINE)
    assert match is not None, mail.outbox[-1].body
    return match.group(1)


def enter_code(client: Client, link: str, code: str):
    return client.post(link, {"step": "code", "code": code})


def invited(owner_client: Client, team: Team, role: str, email: str = "adm@example.com") -> str:
    invite(owner_client, team, email=email, role=role)
    return link_from_last_email()


def joined(username: str, team: Team) -> str | None:
    return Membership.objects.filter(user__username=username, team=team).values_list("role", flat=True).first()


# ---- the defect: a forwarded link alone made anyone an admin or owner -------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_a_forwarded_link_does_not_make_a_new_account_admin_or_owner(team: Team, owner_client: Client, role):
    link = invited(owner_client, team, role)
    mallory = Client()
    response = sign_up(mallory, link)
    assert response.status_code == 302 and response["Location"] == link  # to the code step, not the team
    assert not User.objects.filter(username="mallory").exists()
    assert joined("mallory", team) is None
    assert mallory.get(TEAM_PAGE).status_code == 302  # not signed in either
    assert mail.outbox[-1].to == ["adm@example.com"]  # the code goes to the invited address only
    assert "Enter the code we sent to a…@example.com" in mallory.get(link).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_an_account_whose_email_was_copied_from_another_invitation_proves_nothing(
    team: Team, owner_client: Client, outsider, role
):
    # Mallory got a forwarded *member* invitation to Globex: her new account carries
    # the invited address, unchecked.
    globex_link = invited(login(outsider), outsider.memberships.get().team, Role.MEMBER)
    sign_up(Client(), globex_link)
    mallory = User.objects.get(username="mallory")
    assert mallory.email == "adm@example.com"
    # Then the Acme admin/owner invitation to that address is forwarded to her too.
    link = invited(owner_client, team, role)
    response = login(mallory).post(link, {"step": "join"})
    assert response.status_code == 302 and response["Location"] == link
    assert joined("mallory", team) is None


# ---- the code step, start to end -------------------------------------------------------


@pytest.mark.django_db
def test_the_invited_person_signs_up_with_the_code_and_joins_as_admin(team: Team, owner_client: Client):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    page = client.get(link).content.decode()
    assert "we email a short code to the invited address" in page
    sign_up(client, link, username="ada")
    code = code_from_last_email()
    stored = client.session[CODE_SESSION_KEY]
    assert PASSWORD not in str(stored) and code not in str(stored)  # hashes only
    assert stored["password_hash"].startswith("md5$")  # the tests' hasher; Argon2 in production

    response = enter_code(client, link, code)
    assert response.status_code == 302 and response["Location"] == TEAM_PAGE
    ada = User.objects.get(username="ada")
    assert ada.email == "adm@example.com" and ada.check_password(PASSWORD)
    assert joined("ada", team) == Role.ADMIN
    assert client.get(TEAM_PAGE).status_code == 200  # signed in
    assert CODE_SESSION_KEY not in client.session
    accepted = AuditEvent.objects.get(action="invitation.accepted")
    assert accepted.detail["email_proved"] is True and accepted.detail["new_account"] is True
    actions = set(AuditEvent.objects.filter(target_type="invitation").values_list("action", flat=True))
    assert {"invitation.code_sent", "invitation.code_confirmed"} <= actions
    for event in AuditEvent.objects.all():
        assert code not in str(event.detail) and PASSWORD not in str(event.detail)


@pytest.mark.django_db
def test_a_signed_in_account_with_another_email_joins_as_owner_with_the_code(
    team: Team, owner_client: Client, outsider
):
    link = invited(owner_client, team, Role.OWNER, email="olga.work@example.com")
    client = login(outsider)  # olga's account has no email address: the code is the proof
    assert client.post(link, {"step": "join"})["Location"] == link
    assert mail.outbox[-1].to == ["olga.work@example.com"]
    response = enter_code(client, link, code_from_last_email())
    assert response["Location"] == TEAM_PAGE
    assert joined("olga", team) == Role.OWNER
    assert Invitation.objects.get().accepted_by == outsider


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_for_members_and_viewers_the_link_is_enough(team: Team, owner_client: Client, role):
    link = invited(owner_client, team, role)
    sent = len(mail.outbox)
    response = sign_up(Client(), link)
    assert response["Location"] == TEAM_PAGE
    assert joined("mallory", team) == role
    assert len(mail.outbox) == sent  # no code
    assert AuditEvent.objects.get(action="invitation.accepted").detail["email_proved"] is False


# ---- the code step's refusals ------------------------------------------------------------


@pytest.mark.django_db
def test_a_wrong_code_keeps_them_on_the_code_step_until_five_wrong_tries_void_it(team: Team, owner_client: Client):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    code = code_from_last_email()
    wrong = "000000" if code != "000000" else "111111"
    response = enter_code(client, link, wrong)
    html = response.content.decode()
    assert response.status_code == 200
    assert "That code is not right" in html and "4 more tries" in html
    assert f'value="{wrong}"' in html  # what they typed is still there to correct
    for _ in range(MAX_WRONG_CODES - 1):
        html = enter_code(client, link, wrong).content.decode()
    assert "Too many wrong codes: this code no longer works" in html
    html = enter_code(client, link, code).content.decode()  # the right one, too late
    assert "Too many wrong codes" in html and "Send a new code" in html
    assert joined("ada", team) is None and not User.objects.filter(username="ada").exists()
    failures = AuditEvent.objects.filter(action="invitation.code_failed")
    assert failures.count() == MAX_WRONG_CODES
    assert all(code not in str(event.detail) and wrong not in str(event.detail) for event in failures)

    client.post(link, {"step": "resend"})
    assert enter_code(client, link, code_from_last_email())["Location"] == TEAM_PAGE
    assert joined("ada", team) == Role.ADMIN


@pytest.mark.django_db
def test_wrong_tries_are_counted_on_the_server_not_in_the_session(team: Team, owner_client: Client):
    """A copy of the session taken before the wrong tries (like guesses sent in
    parallel) does not get fresh tries."""
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    code = code_from_last_email()
    snapshot = client.session[CODE_SESSION_KEY]
    for _ in range(MAX_WRONG_CODES):
        enter_code(client, link, "000000" if code != "000000" else "111111")
    session = client.session
    session[CODE_SESSION_KEY] = snapshot
    session.save()
    assert "Too many wrong codes" in enter_code(client, link, code).content.decode()
    assert joined("ada", team) is None


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["", "   ", "abcdef", "12345", "1234567", "9" * 5000, "12\x0034"])
def test_garbage_instead_of_a_code_is_refused_plainly(team: Team, owner_client: Client, typed):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    response = enter_code(client, link, typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="field-error" role="alert"' in html and "Enter the code we sent" in html
    assert joined("ada", team) is None
    assert not AuditEvent.objects.filter(action="invitation.code_failed").exists()  # not a try


@pytest.mark.django_db
@pytest.mark.parametrize(
    "post",
    [
        {"step": "code"},
        {"step": "code", "code": "123456"},
        {"step": "resend"},
        {"step": "nonsense", "code": "123456"},
        {"step": ["code", "resend"], "code": ["1", "2"]},
    ],
)
def test_a_code_post_with_no_code_waiting_never_joins(team: Team, owner_client: Client, post):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    response = client.post(link, post, follow=True)
    assert response.status_code == 200
    assert joined("ada", team) is None and User.objects.count() == 1  # only the owner
    if post["step"] in ("code", "resend"):
        assert "No code is waiting for this invitation" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("junk", ["x", 1, [1, 2], {"id": 3}, {"invitation_id": "1"}, None])
def test_junk_in_the_session_counts_as_no_code(team: Team, owner_client: Client, junk):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    client.get(link)
    session = client.session
    session[CODE_SESSION_KEY] = junk
    session.save()
    response = enter_code(client, link, "123456")
    assert response.status_code == 302 and response["Location"] == link
    assert client.get(link).status_code == 200
    assert Membership.objects.filter(team=team).count() == 1


@pytest.mark.django_db
def test_an_expired_code_says_so_and_a_new_one_works(team: Team, owner_client: Client):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    code = code_from_last_email()
    session = client.session
    session[CODE_SESSION_KEY] = {**session[CODE_SESSION_KEY], "expires_at": time.time() - 1}
    session.save()
    html = enter_code(client, link, code).content.decode()
    assert "This code has expired" in html and "Send a new code" in html
    assert f'value="{code}"' in html
    assert AuditEvent.objects.get(action="invitation.code_failed").detail["reason"] == "expired"
    assert joined("ada", team) is None

    response = client.post(link, {"step": "resend"}, follow=True)
    assert "We sent a new code" in response.content.decode()
    fresh = code_from_last_email()
    if fresh != code:
        assert "That code is not right" in enter_code(client, link, code).content.decode()  # the old one is dead
    assert enter_code(client, link, fresh)["Location"] == TEAM_PAGE
    assert joined("ada", team) == Role.ADMIN


@pytest.mark.django_db
def test_a_code_of_another_invitation_does_not_work(team: Team, owner_client: Client):
    first = invited(owner_client, team, Role.ADMIN, email="first@example.com")
    second = invited(owner_client, team, Role.ADMIN, email="second@example.com")
    client = Client()
    sign_up(client, first, username="ada")
    first_code = code_from_last_email()
    # Posted to the other invitation's link: there, no code is waiting.
    response = enter_code(client, second, first_code)
    assert response["Location"] == second
    # A code is waiting on the second link, but the first one's code is not it.
    other = Client()
    sign_up(other, second, username="bea")
    second_code = code_from_last_email()
    if second_code != first_code:
        assert "That code is not right" in enter_code(other, second, first_code).content.decode()
    assert not Membership.objects.filter(team=team, role=Role.ADMIN).exists()


@pytest.mark.django_db
def test_a_code_works_once(team: Team, owner_client: Client):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    code = code_from_last_email()
    enter_code(client, link, code)
    assert joined("ada", team) == Role.ADMIN
    again = enter_code(client, link, code)
    assert again.status_code == 404 and "does not work" in again.content.decode()
    assert enter_code(Client(), link, code).status_code == 404
    assert Membership.objects.filter(team=team).count() == 2 and User.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_an_invitation_revoked_or_expired_meanwhile_accepts_no_code(team: Team, owner_client: Client, ending):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    code = code_from_last_email()
    if ending == "revoked":
        Invitation.objects.update(revoked_at=timezone.now())
    else:
        Invitation.objects.update(expires_at=timezone.now())
    response = enter_code(client, link, code)
    assert response.status_code == 404 and "does not work" in response.content.decode()
    assert not User.objects.filter(username="ada").exists()
    assert not Membership.objects.filter(team=team, role=Role.ADMIN).exists()


@pytest.mark.django_db
def test_a_username_taken_meanwhile_leads_back_to_the_sign_up_form(team: Team, owner_client: Client):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    code = code_from_last_email()
    User.objects.create_user(username="Ada", password="password")  # someone else, in the meantime
    response = enter_code(client, link, code)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Create your account" in html and 'value="ada"' in html
    assert "A user with that username already exists." in html
    assert "This field is required" not in html
    assert joined("ada", team) is None and joined("Ada", team) is None
    # They choose another username and get a new code.
    sign_up(client, link, username="ada2")
    assert enter_code(client, link, code_from_last_email())["Location"] == TEAM_PAGE
    assert joined("ada2", team) == Role.ADMIN


@pytest.mark.django_db
def test_a_code_asked_for_while_signed_out_does_not_serve_a_signed_in_account(
    team: Team, owner_client: Client, outsider
):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    code = code_from_last_email()
    client.force_login(outsider)  # the session keeps its data
    response = enter_code(client, link, code)
    assert response["Location"] == link
    assert not Membership.objects.filter(team=team, role=Role.ADMIN).exists()


@pytest.mark.django_db
def test_new_codes_are_limited_per_hour_until_an_admin_resends_the_invitation(team: Team, owner_client: Client):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    for _ in range(MAX_CODES_PER_HOUR - 1):
        client.post(link, {"step": "resend"})
    sent = len(mail.outbox)
    html = client.post(link, {"step": "resend"}, follow=True).content.decode()
    assert "codes were already sent for this invitation in the last hour" in html
    assert len(mail.outbox) == sent
    assert enter_code(client, link, code_from_last_email())["Location"] == TEAM_PAGE  # the latest still works


@pytest.mark.django_db
def test_an_admin_resend_of_the_invitation_allows_new_codes_again(team: Team, owner_client: Client):
    invited(owner_client, team, Role.ADMIN)
    link = link_from_last_email()
    client = Client()
    sign_up(client, link, username="ada")
    for _ in range(MAX_CODES_PER_HOUR - 1):
        client.post(link, {"step": "resend"})
    invitation = Invitation.objects.get()
    owner_client.post(reverse("invitation_resend", kwargs={"team_slug": team.slug, "invitation_id": invitation.pk}))
    fresh = link_from_last_email()
    response = sign_up(client, fresh, username="ada")
    assert response["Location"] == fresh
    assert enter_code(client, fresh, code_from_last_email())["Location"] == TEAM_PAGE


@pytest.mark.django_db
def test_start_again_forgets_the_waiting_code(team: Team, owner_client: Client):
    link = invited(owner_client, team, Role.ADMIN)
    client = Client()
    sign_up(client, link, username="ada")
    code = code_from_last_email()
    assert client.post(link, {"step": "restart"})["Location"] == link
    assert "Create your account" in client.get(link).content.decode()
    assert enter_code(client, link, code)["Location"] == link  # no code waiting any more
    assert joined("ada", team) is None


@pytest.mark.django_db
def test_the_code_email_is_sealed_in_the_task_queue_and_retried_when_mail_is_down(
    team: Team, owner_client: Client, monkeypatch
):
    link = invited(owner_client, team, Role.ADMIN)
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        response = sign_up(Client(), link, username="ada")
        assert response.status_code in (200, 302)
        queued = DBTaskResult.objects.get(task_path__endswith="send_sealed_email")
        # Neither the address nor anything readable of the message sits in the queue.
        assert "@example.com" not in json.dumps(queued.args_kwargs)
        assert "join" not in json.dumps(queued.args_kwargs)

        def broken_send(*args: object, **kwargs: object) -> int:
            raise ConnectionRefusedError("smtp is down")

        monkeypatch.setattr("qonadmin.mail.send_mail", broken_send)
        assert send_sealed_email.call(*queued.args_kwargs["args"]) == "attempt 1 failed, retrying"
        retry = DBTaskResult.objects.exclude(pk=queued.pk).get(task_path__endswith="send_sealed_email")
        assert retry.run_after is not None and retry.run_after > timezone.now()
    assert not User.objects.filter(username="ada").exists()
