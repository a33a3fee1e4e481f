"""Changing a password, and resetting a forgotten one by email."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.accounts import add_device, code_for, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-orchard-47-quartz"


def labels(html: str) -> list[str]:
    return re.findall(r"<label[^>]*>([^<]+)</label>", html)


# --- Change (signed in) ---------------------------------------------------------


def test_the_change_page_has_labelled_fields(owner_client: Client):
    html = owner_client.get(reverse("password_change")).content.decode()
    assert labels(html) == ["Old password", "New password", "New password confirmation"]
    assert re.search(r"<button[^>]*>Change password</button>", html)


def test_it_needs_the_old_password(owner_client: Client, owner):
    html = owner_client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ).content.decode()
    assert "Your old password was entered incorrectly." in html
    owner.refresh_from_db()
    assert owner.check_password("password")


def test_it_checks_the_new_password(owner_client: Client):
    html = owner_client.post(
        reverse("password_change"), {"old_password": "password", "new_password1": "abc", "new_password2": "abc"}
    ).content.decode()
    assert "This password is too short." in html


def test_it_changes_the_password_keeps_this_session_and_records_it(owner_client: Client, owner, team):
    other_browser = Client()
    sign_in(other_browser, "alice")
    response = owner_client.post(
        reverse("password_change"),
        {"old_password": "password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password was changed." in response.content.decode()
    assert owner_client.get(reverse("team_detail", kwargs={"team_slug": team.slug})).status_code == 200
    assert other_browser.get(reverse("team_detail", kwargs={"team_slug": team.slug})).status_code == 302
    assert sign_in(Client(), "alice", NEW_PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="account.password_changed")
    assert (event.actor, event.detail) == (owner, {"via": "password change"})
    assert NEW_PASSWORD not in str(event.detail)


def test_the_change_page_needs_a_signed_in_user(client: Client, db):
    assert client.get(reverse("password_change"))["Location"].startswith("/login/")


# --- Reset by email -----------------------------------------------------------------


@pytest.fixture
def alice(owner: User) -> User:
    owner.email = "alice@example.com"
    owner.save()
    return owner


def main_content(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def request_reset(client: Client, email: str):
    return client.post(reverse("password_reset"), {"email": email}, follow=True)


def reset_link(message: mail.EmailMessage) -> str:
    match = re.search(r"http://testserver(/password-reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_login_page_links_to_the_reset(client: Client, db):
    html = client.get(reverse("login")).content.decode()
    assert f'<a href="{reverse("password_reset")}">Forgot your password?</a>' in html
    form = client.get(reverse("password_reset")).content.decode()
    assert labels(form) == ["Email"]


def test_it_emails_a_reset_link(client: Client, alice):
    response = request_reset(client, "Alice@Example.com")
    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your qonadmin password"
    assert 'the qonadmin account "alice"' in message.body
    event = AuditEvent.objects.get(action="account.password_reset_requested")
    assert (event.actor, event.target_repr, event.outcome, event.ip) == (None, "alice", "success", "127.0.0.1")


def test_an_unknown_address_gets_the_same_answer_and_is_not_recorded(client: Client, alice):
    known = request_reset(client, "alice@example.com")
    unknown = request_reset(client, "nobody@example.com")
    assert main_content(known.content.decode()) == main_content(unknown.content.decode())
    assert known.redirect_chain == unknown.redirect_chain
    assert len(mail.outbox) == 1
    event = AuditEvent.objects.filter(action="account.password_reset_requested").first()  # newest
    assert event is not None
    assert (event.outcome, event.detail, event.target_repr) == ("failure", {"account_found": False}, "")
    everything = " ".join(f"{e.detail} {e.target_repr} {e.actor_username}" for e in AuditEvent.objects.all())
    assert "nobody@example.com" not in everything


def test_the_link_sets_a_new_password_once(client: Client, alice):
    request_reset(client, "alice@example.com")
    link = reset_link(mail.outbox[0])
    form_page = client.get(link, follow=True)
    assert labels(form_page.content.decode()) == ["New password", "New password confirmation"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert "Your new password is set." in done.content.decode()
    assert "_auth_user_id" not in client.session  # not signed in by the link
    assert sign_in(Client(), "alice", NEW_PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="account.password_changed")
    assert (event.actor, event.detail) == (alice, {"via": "reset link"})
    again = client.get(link, follow=True).content.decode()
    assert "This link no longer works" in again


def test_a_reset_does_not_skip_the_one_time_code(client: Client, alice):
    device = add_device(alice)
    request_reset(client, "alice@example.com")
    form_page = client.get(reset_link(mail.outbox[0]), follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    browser = Client()
    assert sign_in(browser, "alice", NEW_PASSWORD)["Location"] == reverse("login_code")
    assert browser.post(reverse("login_code"), {"code": code_for(device)}).status_code == 302
