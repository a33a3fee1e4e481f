"""Alert channels in the browser: an admin adds a webhook, copies its secret (shown
once), sends a test alert and sees it delivered to a real endpoint on 127.0.0.1."""

import hashlib
import hmac
import re
from collections.abc import Iterator

import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect

from alerts.models import AlertChannel
from teams.models import Role
from tests.alerts.receiver import Receiver, running_receiver
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The live server runs tasks where they are enqueued (a worker does it in production).
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_an_admin_adds_a_webhook_sees_its_secret_once_and_sends_a_test_alert(
    page: Page, live_server, team, owner, make_member, receiver: Receiver
):
    make_member("adam", Role.ADMIN)
    sign_in(page, live_server.url, "adam")
    page.goto(f"{live_server.url}/teams/{team.slug}/")
    page.get_by_role("navigation", name="Team").get_by_role("link", name="Alerts").click()
    expect(page.get_by_text("No channels yet: owners and admins get email")).to_be_visible()

    page.get_by_text("Webhook", exact=True).click()  # opens the webhook form
    form = page.locator("details.add-channel[open] form")
    form.get_by_label("Name").fill("Ops webhook")
    form.get_by_label("Webhook URL").fill(receiver.at("/hooks/acme-token"))
    form.get_by_role("button", name="Add webhook channel").click()

    expect(page.get_by_role("heading", name="Signing secret of “Ops webhook”")).to_be_visible()
    secret = page.locator("#new-secret").inner_text()
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", secret)
    row = page.locator("table.alert-channels tr", has_text="Ops webhook")
    expect(row).to_contain_text(f"{receiver.url}/…/oken")

    row.get_by_role("button", name="Send test alert").click()
    expect(page.get_by_text("Test alert to “Ops webhook” queued")).to_be_visible()
    delivered = page.locator("table.alert-deliveries tbody tr").first
    expect(delivered).to_contain_text("Test alert")
    expect(delivered).to_contain_text("Ops webhook")
    expect(delivered.locator(".delivery-status")).to_have_text(re.compile(r"Sent"))

    [post] = receiver.posts_to("/hooks/acme-token")
    assert post.json()["event"] == "test"
    expected = "sha256=" + hmac.new(secret.encode(), post.body, hashlib.sha256).hexdigest()
    assert post.headers["X-Qonadmin-Signature"] == expected  # the secret shown is the one that signs

    page.reload()
    expect(page.locator("table.alert-channels")).to_contain_text("Ops webhook")
    assert secret not in page.content()  # shown once
    assert "acme-token" not in page.content()
    assert AlertChannel.objects.get().secret() == secret
