"""Account → Two-factor sign-in: set up an authenticator app, and remove it."""

import base64
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.accounts import add_device, code_for, code_for_secret, verified_client
from tests.conftest import login

pytestmark = pytest.mark.django_db

PAGE = reverse("two_factor")


def shown_secret(html: str) -> str:
    match = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', html)
    assert match, "the secret key is shown as text"
    return match.group(1)


def test_the_user_menu_links_to_it(owner_client: Client, team):
    html = owner_client.get(reverse("team_detail", kwargs={"team_slug": team.slug})).content.decode()
    assert f'<a href="{PAGE}">Two-factor sign-in</a>' in html
    assert f'<a href="{reverse("password_change")}">Change password</a>' in html


def test_it_needs_a_signed_in_user(client: Client, db):
    assert client.get(PAGE)["Location"] == f"{reverse('login')}?next={PAGE}"


def test_it_shows_a_qr_code_and_the_secret_as_text(owner_client: Client):
    response = owner_client.get(PAGE)
    html = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    secret = shown_secret(html)
    assert len(secret.replace(" ", "")) == 32  # 20 random bytes in base32
    qr = re.search(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)"', html)
    assert qr and "QR code" in qr.group(2)
    assert base64.b64decode(qr.group(1)).startswith(b"<svg")
    assert "style=" not in html  # the CSP allows no inline style
    assert shown_secret(owner_client.get(PAGE).content.decode()) == secret  # stable across reloads
    assert not TOTPDevice.objects.exists()  # nothing saved until confirmed


def test_the_right_code_turns_it_on_and_verifies_this_session(owner_client: Client, owner):
    secret = shown_secret(owner_client.get(PAGE).content.decode())
    response = owner_client.post(PAGE, {"code": code_for_secret(secret)})
    html = response.content.decode()
    assert "Two-factor sign-in is on. From now on, sign in with your password and a one-time code." in html
    assert "Save these now." in html  # the backup codes come first (tests/accounts/test_backup_codes.py)
    assert "Remove two-factor sign-in" in owner_client.get(PAGE).content.decode()
    device = TOTPDevice.objects.get(user=owner)
    assert device.confirmed
    assert base64.b32encode(device.bin_key).decode().rstrip("=") == secret.replace(" ", "")
    assert owner_client.session["otp_device_id"] == device.persistent_id
    event = AuditEvent.objects.get(action="account.2fa_enabled")
    assert (event.actor, event.outcome, event.team, event.target_repr) == (owner, "success", None, "alice")
    assert secret.replace(" ", "") not in str(event.detail)


def test_the_code_used_to_confirm_cannot_sign_in(owner_client: Client, owner):
    secret = shown_secret(owner_client.get(PAGE).content.decode())
    code = code_for_secret(secret)
    owner_client.post(PAGE, {"code": code})
    other = Client()
    other.post(reverse("login"), {"username": "alice", "password": "password"})
    assert "That code is not right." in other.post(reverse("login_code"), {"code": code}).content.decode()


def test_a_wrong_code_keeps_the_same_secret(owner_client: Client):
    secret = shown_secret(owner_client.get(PAGE).content.decode())
    wrong = "000000" if code_for_secret(secret) != "000000" else "111111"
    html = owner_client.post(PAGE, {"code": wrong}).content.decode()
    assert "That code does not match." in html
    assert shown_secret(html) == secret
    assert not TOTPDevice.objects.exists()


def test_it_returns_to_next_after_setting_up(owner_client: Client, team):
    secret = shown_secret(owner_client.get(f"{PAGE}?next=/teams/acme/").content.decode())
    response = owner_client.post(PAGE, {"code": code_for_secret(secret), "next": "/teams/acme/"})
    # After the backup codes are shown.
    assert '<a href="/teams/acme/" role="button">I have saved them, continue</a>' in response.content.decode()


def test_it_ignores_a_next_to_another_site(owner_client: Client):
    secret = shown_secret(owner_client.get(PAGE).content.decode())
    response = owner_client.post(PAGE, {"code": code_for_secret(secret), "next": "https://evil.example/"})
    html = response.content.decode()
    assert f'<a href="{PAGE}" role="button">I have saved them, continue</a>' in html
    assert "evil.example" not in html


def test_removing_needs_a_current_code(owner):
    device = add_device(owner)
    client = verified_client(owner, device)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    html = client.post(reverse("two_factor_remove"), {"code": wrong}).content.decode()
    assert "That code is not right." in html
    assert TOTPDevice.objects.filter(user=owner).exists()
    assert not AuditEvent.objects.filter(action="account.2fa_disabled").exists()


def test_removing_with_a_code_turns_it_off(owner):
    device = add_device(owner)
    client = verified_client(owner, device)
    response = client.post(reverse("two_factor_remove"), {"code": code_for(device)}, follow=True)
    assert "Two-factor sign-in is off. You sign in with your password only." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert AuditEvent.objects.get(action="account.2fa_disabled").actor == owner
    # Next time, the password alone signs in.
    fresh = Client()
    assert fresh.post(reverse("login"), {"username": "alice", "password": "password"})["Location"] == reverse("home")


def test_removing_is_post_only(owner):
    device = add_device(owner)
    assert verified_client(owner, device).get(reverse("two_factor_remove")).status_code == 405


def test_it_links_an_owner_to_their_teams_security(owner_client: Client, team, viewer):
    html = owner_client.get(PAGE).content.decode()
    assert f'<a href="/teams/{team.slug}/security/">Acme security</a>' in html
    assert "/security/" not in login(viewer).get(PAGE).content.decode()
