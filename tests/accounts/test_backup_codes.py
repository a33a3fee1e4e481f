"""Backup codes: ten single-use codes shown once when two-factor sign-in is turned on,
accepted instead of a code from the app, replaced on request, removed with the app."""

import logging
import re
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from audit.models import AuditEvent
from tests.accounts import add_device, code_for, code_for_secret, sign_in, verified_client

pytestmark = pytest.mark.django_db

PAGE = reverse("two_factor")
NEW_CODES = reverse("two_factor_backup_codes")
REMOVE = reverse("two_factor_remove")
CODE_PAGE = reverse("login_code")


def shown_codes(html: str) -> list[str]:
    listing = re.search(r'<ol id="backup-codes">(.*?)</ol>', html, re.DOTALL)
    assert listing, "the backup codes are listed"
    return re.findall(r"<code>([a-z2-7]{8})</code>", listing.group(1))


def turn_on(client: Client) -> tuple[str, list[str]]:
    """Set up two-factor sign-in on the settings page; the page that follows and its codes."""
    secret = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', client.get(PAGE).content.decode())
    assert secret, "the secret key is shown as text"
    html = client.post(PAGE, {"code": code_for_secret(secret.group(1))}).content.decode()
    return html, shown_codes(html)


def sign_in_with(code: str, username: str = "alice", **data: str):
    """A new browser: the password, then `code` on the one-time-code page."""
    client = Client()
    sign_in(client, username)
    return client, client.post(CODE_PAGE, {"code": code, **data})


def test_it_shows_ten_codes_once_after_turning_on_two_factor(owner_client: Client, owner):
    html, codes = turn_on(owner_client)
    assert len(codes) == len(set(codes)) == 10
    assert "Save these now." in html
    assert "Each code works once. They are not shown again." in html
    assert '<a href="/account/two-factor/" role="button">I have saved them, continue</a>' in html

    settings_page = owner_client.get(PAGE)
    assert "no-store" in settings_page["Cache-Control"]
    later = settings_page.content.decode()
    assert "You have 10 backup codes left." in later
    assert not any(code in later for code in codes)
    # Reloading the answer (the browser sends the form again) does not show them either.
    again = owner_client.post(PAGE, {"code": "123456"}).content.decode()
    assert not any(code in again for code in codes)
    assert StaticToken.objects.filter(device__user=owner).count() == 10


def test_the_code_page_offers_backup_codes(client: Client, owner):
    add_device(owner)
    sign_in(client, "alice")
    html = client.get(CODE_PAGE).content.decode()
    assert "or one of your backup codes" in html
    assert 'inputmode="numeric"' not in html  # a phone's number pad has no letters


def test_it_signs_in_with_a_backup_code(owner_client: Client, owner, team):
    _, codes = turn_on(owner_client)
    client, response = sign_in_with(codes[0], next=f"/teams/{team.slug}/")
    assert response["Location"] == f"/teams/{team.slug}/"
    assert client.get(response["Location"]).status_code == 200
    assert client.session["otp_device_id"] == StaticDevice.objects.get(user=owner).persistent_id
    assert AuditEvent.objects.filter(action="auth.sign_in", actor=owner).latest("id").detail == {"two_factor": True}
    used = AuditEvent.objects.get(action="account.backup_code_used")
    assert (used.actor, used.outcome, used.detail) == (owner, "success", {"codes_left": 9})


def test_it_takes_a_backup_code_in_capitals_with_spaces_or_a_dash(owner_client: Client):
    _, codes = turn_on(owner_client)
    assert sign_in_with(f"{codes[0][:4].upper()}-{codes[0][4:].upper()}")[1].status_code == 302
    assert sign_in_with(f" {codes[1][:4]} {codes[1][4:]} ")[1].status_code == 302


def test_the_same_backup_code_fails_the_second_time(owner_client: Client, owner):
    _, codes = turn_on(owner_client)
    assert sign_in_with(codes[0])[1].status_code == 302
    client, response = sign_in_with(codes[0])
    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert failed.actor == owner and failed.detail == {"step": "one-time code"}


def test_the_settings_page_counts_down_the_codes_left(owner_client: Client):
    _, codes = turn_on(owner_client)
    sign_in_with(codes[0])
    assert "You have 9 backup codes left." in owner_client.get(PAGE).content.decode()
    sign_in_with(codes[1])
    assert "You have 8 backup codes left." in owner_client.get(PAGE).content.decode()


def test_someone_who_set_up_two_factor_before_backup_codes_is_told_to_make_some(owner):
    device = add_device(owner)  # no codes, as for everyone who turned it on before they existed
    html = verified_client(owner, device).get(PAGE).content.decode()
    assert "You have no backup codes left." in html
    assert '<button type="submit">Make new backup codes</button>' in html


def test_making_new_codes_replaces_the_old_ones(owner_client: Client, owner):
    _, old = turn_on(owner_client)
    device = TOTPDevice.objects.get(user=owner)
    response = owner_client.post(NEW_CODES, {"code": code_for(device, steps_ahead=1)})
    html = response.content.decode()
    new = shown_codes(html)
    assert "no-store" in response["Cache-Control"]
    assert "Save these now." in html and "Your old backup codes no longer work." in html
    assert len(new) == 10 and not set(new) & set(old)
    assert "You have 10 backup codes left." in owner_client.get(PAGE).content.decode()

    assert sign_in_with(new[0])[1].status_code == 302
    assert "That code is not right." in sign_in_with(old[0])[1].content.decode()
    created = AuditEvent.objects.filter(action="account.backup_codes_created", actor=owner).order_by("id")
    assert [event.detail for event in created] == [{"count": 10}, {"count": 10}]


def test_a_backup_code_can_make_new_codes(owner_client: Client):
    _, old = turn_on(owner_client)
    new = shown_codes(owner_client.post(NEW_CODES, {"code": old[0]}).content.decode())
    assert len(new) == 10
    assert "That code is not right." in sign_in_with(old[1])[1].content.decode()


def test_making_new_codes_needs_a_right_code(owner_client: Client, owner):
    _, codes = turn_on(owner_client)
    html = owner_client.post(NEW_CODES, {"code": "zzzzzzzz"}).content.decode()
    assert '<small id="id_new_codes_code_error" class="field-error" role="alert">That code is not right.' in html
    assert "Save these now." not in html
    assert AuditEvent.objects.filter(action="account.backup_codes_created").count() == 1  # the first ten only
    assert StaticToken.objects.filter(device__user=owner, token=codes[0]).exists()


def test_making_new_codes_is_post_only(owner_client: Client):
    turn_on(owner_client)
    assert owner_client.get(NEW_CODES).status_code == 405


def test_a_session_verified_with_a_backup_code_stays_verified_after_new_codes(owner_client: Client, team):
    team.require_two_factor = True
    team.save()
    _, codes = turn_on(owner_client)
    client, _ = sign_in_with(codes[0])
    shown_codes(client.post(NEW_CODES, {"code": codes[1]}).content.decode())
    assert client.get(reverse("team_detail", kwargs={"team_slug": team.slug})).status_code == 200


def test_removing_two_factor_removes_the_backup_codes(owner_client: Client, owner):
    _, codes = turn_on(owner_client)
    device = TOTPDevice.objects.get(user=owner)
    response = owner_client.post(REMOVE, {"code": code_for(device, steps_ahead=1)}, follow=True)
    assert "Two-factor sign-in is off." in response.content.decode()
    assert not StaticToken.objects.filter(device__user=owner).exists()
    # Set up again: the codes from before do not come back.
    _, new = turn_on(owner_client)
    assert sign_in_with(new[0])[1].status_code == 302
    assert "That code is not right." in sign_in_with(codes[0])[1].content.decode()


def test_a_backup_code_removes_two_factor_after_a_lost_phone(owner_client: Client, owner):
    _, codes = turn_on(owner_client)
    client, _ = sign_in_with(codes[0])
    response = client.post(REMOVE, {"code": codes[1]}, follow=True)
    assert "Two-factor sign-in is off." in response.content.decode()
    assert not StaticDevice.objects.filter(user=owner).exists()


def test_an_administrator_deleting_the_app_removes_the_backup_codes(owner_client: Client, owner):
    turn_on(owner_client)
    admin = User.objects.create_superuser("root", password="password")
    client = Client()
    client.force_login(admin)
    device = TOTPDevice.objects.get(user=owner)
    url = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not StaticDevice.objects.filter(user=owner).exists()
    assert not StaticToken.objects.exists()


def test_wrong_backup_codes_count_towards_the_lockout(owner_client: Client, owner):
    _, codes = turn_on(owner_client)
    client = Client()
    sign_in(client, "alice")
    with mock.patch.object(StaticDevice, "get_throttle_factor", return_value=0):
        for _ in range(4):
            assert "That code is not right." in client.post(CODE_PAGE, {"code": "zzzzzzzz"}).content.decode()
        fifth = client.post(CODE_PAGE, {"code": "zzzzzzzz"})
        assert fifth.status_code == 429
        assert "Too many failed sign-ins for this account from your address." in fifth.content.decode()
        assert client.post(CODE_PAGE, {"code": codes[0]})["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.locked_out", actor=owner).count() == 1
    assert StaticToken.objects.filter(device__user=owner, token=codes[0]).exists()  # not spent


def test_a_wrong_backup_code_makes_the_next_one_wait(owner_client: Client):
    _, codes = turn_on(owner_client)
    client = Client()
    sign_in(client, "alice")
    client.post(CODE_PAGE, {"code": "zzzzzzzz"})
    html = client.post(CODE_PAGE, {"code": codes[0]}).content.decode()  # within a second of the wrong one
    assert "Too many wrong codes for this account. Wait 1 second" in html


def test_codes_never_reach_the_audit_log_axes_or_the_logs(owner_client: Client, owner, caplog):
    caplog.set_level(logging.DEBUG)
    _, first = turn_on(owner_client)
    client, _ = sign_in_with(first[0])
    second = shown_codes(client.post(NEW_CODES, {"code": first[1]}).content.decode())
    second += services.backup_codes_create(user=owner, ip="127.0.0.1")
    sign_in_with(first[2])  # an old code: refused, and recorded by axes and the audit log

    assert AuditEvent.objects.filter(action="auth.sign_in_failed").exists()
    assert AccessAttempt.objects.exists()
    stored = " ".join(str(row) for row in AuditEvent.objects.values()) + " ".join(
        str(row) for row in AccessAttempt.objects.values()
    )
    for code in first + second:
        assert code not in stored
        assert code not in caplog.text
    events = AuditEvent.objects.filter(action__startswith="account.backup").order_by("id")
    assert [(event.action, event.detail) for event in events] == [
        ("account.backup_codes_created", {"count": 10}),
        ("account.backup_code_used", {"codes_left": 9}),
        ("account.backup_code_used", {"codes_left": 8}),
        ("account.backup_codes_created", {"count": 10}),
        ("account.backup_codes_created", {"count": 10}),
    ]
