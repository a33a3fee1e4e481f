"""Team administration in the browser: invitations, roles in the UI, adding a project."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from teams.models import Membership, Project, Role
from tests.browser.conftest import sign_in
from tests.factories import make_integration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invite_accept_and_sign_in_as_the_new_member(page: Page, browser: Browser, live_server, team, owner):
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/teams/{team.slug}/members/")
    page.get_by_label("Email").fill("newbie@example.com")
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to newbie@example.com")).to_be_visible()
    expect(page.get_by_role("cell", name="newbie@example.com")).to_be_visible()

    link = re.search(r"http://\S+/invitations/\S+/", mail.outbox[-1].body)
    assert link is not None
    invitee = browser.new_context().new_page()
    invitee.goto(link.group(0))
    expect(invitee.get_by_role("heading", name="Join Acme")).to_be_visible()
    invitee.get_by_label("Username").fill("newbie")
    invitee.get_by_label("Password", exact=True).fill("a-long-pass-phrase-1")
    invitee.get_by_label("Password confirmation").fill("a-long-pass-phrase-1")
    invitee.get_by_role("button", name="Create account and join").click()
    expect(invitee.get_by_role("heading", name="Acme", exact=True)).to_be_visible()
    expect(invitee.get_by_text("Your role: Member")).to_be_visible()

    # Later: sign out and back in as the new member.
    invitee.get_by_text("newbie", exact=True).click()
    invitee.get_by_role("button", name="Log out").click()
    sign_in(invitee, live_server.url, "newbie", "a-long-pass-phrase-1")
    expect(invitee.get_by_role("heading", name="Acme", exact=True)).to_be_visible()
    assert Membership.objects.get(user__username="newbie").role == Role.MEMBER


def test_an_admin_invitation_asks_for_the_code_mailed_to_the_invited_address(
    page: Page, browser: Browser, live_server, team, owner
):
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/teams/{team.slug}/members/")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to ada@example.com")).to_be_visible()

    link = re.search(r"http://\S+/invitations/\S+/", mail.outbox[-1].body)
    assert link is not None
    invitee = browser.new_context().new_page()
    invitee.goto(link.group(0))
    invitee.get_by_label("Username").fill("ada")
    invitee.get_by_label("Password", exact=True).fill("a-long-pass-phrase-1")
    invitee.get_by_label("Password confirmation").fill("a-long-pass-phrase-1")
    invitee.get_by_role("button", name="Create account and join").click()
    expect(invitee.get_by_role("heading", name="Enter the code we sent to a…@example.com")).to_be_visible()
    assert mail.outbox[-1].to == ["ada@example.com"]
    code = re.search(r"^(\d{6})$", mail.outbox[-1].body, re.MULTILINE)
    assert code is not None

    wrong = "000000" if code.group(1) != "000000" else "111111"
    invitee.get_by_label("Code from the email").fill(wrong)
    invitee.get_by_role("button", name="Confirm and join").click()
    expect(invitee.get_by_text("That code is not right")).to_be_visible()
    expect(invitee.get_by_label("Code from the email")).to_have_value(wrong)
    invitee.get_by_label("Code from the email").fill(code.group(1))
    invitee.get_by_role("button", name="Confirm and join").click()
    expect(invitee.get_by_role("heading", name="Acme", exact=True)).to_be_visible()
    expect(invitee.get_by_text("Your role: Admin")).to_be_visible()
    assert Membership.objects.get(user__username="ada").role == Role.ADMIN


def test_a_viewer_sees_no_controls(page: Page, live_server, project: Project, owner, viewer):
    make_integration(project, owner, "Amplitude prod", active=True)
    sign_in(page, live_server.url, "victor")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(page.get_by_role("link", name="Amplitude prod")).to_be_visible()
    for name in ("+ New integration", "Pause", "Activate", "Delete"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)


def test_an_admin_adds_a_project_and_sees_its_key_masked(page: Page, live_server, team, make_member, sandbox):
    make_member("adam", Role.ADMIN)
    sign_in(page, live_server.url, "adam")
    page.get_by_role("button", name="+ Add project").click()
    page.get_by_label("Name").fill("Acme Android")
    page.get_by_label("Secret key").fill("test_sk_android_prod_9f3a")
    page.get_by_role("button", name="Check key and add project").click()
    expect(page.get_by_role("heading", name="Acme Android")).to_be_visible()
    expect(page.locator("code", has_text="test_sk_…9f3a")).to_be_visible()
    assert "test_sk_android_prod_9f3a" not in page.content()
