"""Signing in with an authenticator app: password, then a one-time code."""

from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from accounts import two_factor
from audit.models import AuditEvent
from tests.accounts import add_device, code_for, sign_in

pytestmark = pytest.mark.django_db

CODE_PAGE = reverse("login_code")


def send_code(client: Client, code: str, **data: str):
    return client.post(CODE_PAGE, {"code": code, **data})


def test_a_user_without_a_device_signs_in_with_the_password_only(client: Client, owner, team):
    response = sign_in(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_the_password_alone_does_not_sign_in_a_user_with_a_device(client: Client, owner, team):
    add_device(owner)
    response = sign_in(client, "alice")
    assert response["Location"] == CODE_PAGE
    html = client.get(CODE_PAGE).content.decode()
    assert "Enter your one-time code" in html
    assert '<label for="id_code">One-time code</label>' in html
    assert 'autocomplete="one-time-code"' in html
    # Not signed in yet: the team page still sends them to the login page.
    assert client.get(reverse("team_detail", kwargs={"team_slug": team.slug}))["Location"].startswith("/login/")
    assert not AuditEvent.objects.filter(action="auth.sign_in").exists()


def test_the_right_code_signs_in_and_verifies_the_session(client: Client, owner, team):
    device = add_device(owner)
    sign_in(client, "alice")
    response = send_code(client, code_for(device), next=f"/teams/{team.slug}/")
    assert response["Location"] == f"/teams/{team.slug}/"
    assert client.get(response["Location"]).status_code == 200
    assert client.session["otp_device_id"] == device.persistent_id
    event = AuditEvent.objects.get(action="auth.sign_in")
    assert event.actor == owner and event.detail == {"two_factor": True}


def test_next_survives_both_steps(client: Client, owner, team):
    add_device(owner)
    response = client.post(
        reverse("login"), {"username": "alice", "password": "password", "next": f"/teams/{team.slug}/"}
    )
    assert response["Location"] == f"{CODE_PAGE}?next=%2Fteams%2F{team.slug}%2F"
    assert f'name="next" value="/teams/{team.slug}/"' in client.get(response["Location"]).content.decode()


def test_a_wrong_code_says_so_and_is_recorded(client: Client, owner):
    device = add_device(owner)
    sign_in(client, "alice")
    wrong = "000000" if code_for(device) != "000000" else "111111"
    response = send_code(client, wrong)
    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.actor == owner and event.detail == {"step": "one-time code"}
    assert wrong not in str(event.detail)


def test_a_malformed_code_is_explained_without_counting(client: Client, owner):
    add_device(owner)
    sign_in(client, "alice")
    html = send_code(client, "12ab").content.decode()
    assert "Enter the 6-digit code from your authenticator app, or one of your backup codes" in html
    assert not AuditEvent.objects.filter(action="auth.sign_in_failed").exists()


def test_codes_with_spaces_are_accepted(client: Client, owner):
    device = add_device(owner)
    sign_in(client, "alice")
    code = code_for(device)
    assert send_code(client, f"{code[:3]} {code[3:]}").status_code == 302


def test_a_code_works_only_once(client: Client, owner):
    device = add_device(owner)
    code = code_for(device)
    sign_in(client, "alice")
    assert send_code(client, code).status_code == 302
    other = Client()
    sign_in(other, "alice")
    assert "That code is not right." in send_code(other, code).content.decode()


def test_wrong_codes_count_towards_the_lockout(client: Client, owner):
    """Five wrong codes from one address lock the account out there, like passwords;
    django-otp's own per-device delays are switched off here to count only axes'."""
    device = add_device(owner)
    sign_in(client, "alice")
    wrong = "000000" if code_for(device) != "000000" else "111111"
    with mock.patch.object(type(device), "get_throttle_factor", return_value=0):
        for _ in range(4):
            assert "That code is not right." in send_code(client, wrong).content.decode()
        fifth = send_code(client, wrong)
        assert fifth.status_code == 429
        assert "Too many failed sign-ins for this account from your address." in fifth.content.decode()
        # The right code does not help now: the password is needed again, after the cool-off.
        assert send_code(client, code_for(device))["Location"] == reverse("login")
        assert sign_in(client, "alice").status_code == 429
        assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.locked_out", actor=owner).count() == 1


def test_the_device_throttle_asks_to_wait(client: Client, owner):
    device = add_device(owner)
    sign_in(client, "alice")
    wrong = "000000" if code_for(device) != "000000" else "111111"
    send_code(client, wrong)
    html = send_code(client, code_for(device)).content.decode()  # within a second of the wrong one
    assert "Too many wrong codes for this account. Wait 1 second" in html


def test_the_code_step_expires(client: Client, owner):
    device = add_device(owner)
    sign_in(client, "alice")
    session = client.session
    session[two_factor.PENDING_SESSION_KEY]["started"] -= two_factor.PENDING_SECONDS + 1
    session.save()
    response = send_code(client, code_for(device))
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_the_code_step_without_a_password_goes_to_the_login_page(client: Client, db):
    response = client.get(CODE_PAGE, follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "Enter your username and password to sign in." in response.content.decode()


def test_a_password_change_in_between_cancels_the_code_step(client: Client, owner):
    device = add_device(owner)
    sign_in(client, "alice")
    owner.set_password("a-new-password-123")
    owner.save()
    assert send_code(client, code_for(device))["Location"] == reverse("login")


def test_the_code_form_needs_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    add_device(owner)
    html = client.get(reverse("login")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert client.post(CODE_PAGE, {"code": "123456"}).status_code == 403


def test_the_admin_login_goes_through_the_same_two_steps(client: Client, owner):
    owner.is_staff = True
    owner.save()
    device = add_device(owner)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('login')}?next=%2Fadmin%2F"
    response = client.post(reverse("login"), {"username": "alice", "password": "password", "next": "/admin/"})
    assert response["Location"] == f"{CODE_PAGE}?next=%2Fadmin%2F"
    assert send_code(client, code_for(device), next="/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_signed_in_non_staff_user_is_refused_the_admin_without_a_loop(client: Client, owner):
    sign_in(client, "alice")
    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_signed_in_staff_passes_through_the_admin_login(client: Client, owner):
    owner.is_staff = True
    owner.save()
    sign_in(client, "alice")
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/admin/"
