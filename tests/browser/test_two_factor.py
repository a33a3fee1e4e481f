"""A person sets up an authenticator app, signs out, and signs in with password and code;
and someone without their phone signs in with a backup code."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accounts import services
from audit.models import AuditEvent
from tests.accounts import add_device, code_for, code_for_secret
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_user_menu(page: Page) -> None:
    page.locator("details.dropdown summary", has_text="alice").click()


def test_it_enrols_and_then_signs_in_with_a_one_time_code(page: Page, live_server, owner, team):
    sign_in(page, live_server.url, "alice")
    open_user_menu(page)
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="QR code that adds qonadmin to an authenticator app")).to_be_visible()

    # The test plays the authenticator app: it types in the secret shown as text.
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("One-time code").fill(code_for_secret(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text("Two-factor sign-in is on. From now on, sign in with your password")).to_be_visible()
    expect(page.get_by_text("Save these now.")).to_be_visible()
    expect(page.locator("#backup-codes li")).to_have_count(10)
    page.get_by_role("button", name="I have saved them, continue").click()
    expect(page.get_by_text("You have 10 backup codes left.")).to_be_visible()
    device = TOTPDevice.objects.get(user=owner, confirmed=True)

    open_user_menu(page)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to qonadmin")).to_be_visible()

    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Enter your one-time code")).to_be_visible()
    # The code used to enrol is spent; the app's next code is accepted (one step of tolerance).
    page.get_by_label("One-time code").fill(code_for(device, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("heading", name="Acme")).to_be_visible()
    assert page.url == f"{live_server.url}/teams/{team.slug}/"
    sign_ins = AuditEvent.objects.filter(action="auth.sign_in", actor=owner).order_by("id")
    assert [event.detail["two_factor"] for event in sign_ins] == [False, True]


def test_it_signs_in_with_a_backup_code_instead_of_the_app(page: Page, live_server, owner, team):
    add_device(owner)
    codes = services.backup_codes_create(user=owner, ip=None)  # saved when they set it up

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("or one of your backup codes")).to_be_visible()
    page.get_by_label("One-time code").fill(codes[0].upper())  # as typed from a printout
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("heading", name="Acme")).to_be_visible()
    open_user_menu(page)
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_text("You have 9 backup codes left.")).to_be_visible()
    assert AuditEvent.objects.get(action="account.backup_code_used").detail == {"codes_left": 9}
