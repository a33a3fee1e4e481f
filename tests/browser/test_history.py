"""Health over time in the browser: after an integration breaks and the list is
refreshed, its row says since when it is in Error and draws its errors of the last
24 h; its details show the timeline of its changes."""

import re

import pytest
from playwright.sync_api import Page, expect

from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.browser.conftest import sign_in
from tests.conftest import SANDBOX_KEY
from tests.factories import make_integration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_broken_integration_shows_since_when_its_errors_and_its_timeline(
    page: Page, live_server, project: Project, owner, sandbox: SandboxControl
):
    integration = make_integration(project, owner, "Legacy webhook", provider="webhooks", active=True)
    project_sync(project=project)  # fresh: the page does not refresh by itself on load
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    row = page.locator("#integration-rows tr", has=page.get_by_role("link", name="Legacy webhook", exact=True))
    expect(row.locator(".badge")).to_have_text("Active")

    sandbox.deliveries(
        key=SANDBOX_KEY,
        integration_id=integration.qonversion_id,
        outcome="failure",
        count=5,
        message="401 from endpoint: bad key",
    )
    page.get_by_role("button", name="↻ Refresh").click()

    expect(row.locator(".badge")).to_have_text("Error")
    expect(row).to_contain_text(re.compile(r"in Error since \d\d:\d\d UTC \(now|in Error since \d\d:\d\d UTC \(\d+"))
    chart = row.get_by_role("img", name="Delivery errors, last 24 h: 5 in total, most 5 in one hour")
    expect(chart).to_be_visible()
    expect(row).to_contain_text("5 in 24 h")  # the number, not only the drawing

    row.get_by_role("link", name="Legacy webhook", exact=True).click()
    details = page.locator(f"#details-{integration.pk}")
    expect(details.get_by_role("heading", name="Timeline")).to_be_visible()
    entries = details.locator(".timeline-list li")
    expect(entries.first).to_contain_text("Active →")
    expect(entries.first).to_contain_text("Error")
    expect(entries.first).to_contain_text("401 from endpoint: bad key")
    expect(entries.nth(1)).to_contain_text("Paused →")
    expect(details.get_by_role("img", name=re.compile(r"^Delivery errors, last 7 d: 5 in total"))).to_be_visible()
