"""A person signs in, opens a project and creates an integration without a reload."""

import pytest
from playwright.sync_api import Page, expect

from integrations.models import Integration
from teams.models import Project
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_creates_an_integration_and_shows_its_paused_badge(page: Page, live_server, project: Project, owner):
    sign_in(page, live_server.url, "alice")
    page.get_by_role("link", name="Acme iOS").click()
    expect(page.get_by_role("heading", name="Acme iOS")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("button", name="+ New integration").click()
    form = page.get_by_role("form", name="New integration")
    form.get_by_label("Title").fill("Amplitude — Production iOS")
    form.get_by_label("Provider").select_option("amplitude")
    form.get_by_label("iOS").check()
    form.get_by_role("button", name="Create integration").click()

    row = page.locator("#integration-rows tr", has_text="Amplitude — Production iOS")
    expect(row).to_be_visible()
    expect(row.locator(".badge")).to_have_text("Paused")
    expect(page.get_by_role("status").filter(has_text="Created “Amplitude — Production iOS”")).to_be_visible()
    expect(form.get_by_label("Title")).to_have_value("")  # the form reset
    assert page.evaluate("window.__sameDocument") is True  # no full page load happened
    assert Integration.objects.filter(project=project, title="Amplitude — Production iOS").count() == 1


def test_it_offers_only_the_platforms_a_provider_accepts(page: Page, live_server, project: Project, owner):
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_role("button", name="+ New integration").click()
    form = page.get_by_role("form", name="New integration")
    form.get_by_label("Provider").select_option("searchads")
    expect(form.get_by_label("Android")).to_be_disabled()
    expect(form.get_by_label("Stripe")).to_be_disabled()
    expect(form.get_by_label("iOS")).to_be_enabled()
    expect(page.get_by_text("Apple Search Ads accepts iOS.")).to_be_visible()


def test_it_keeps_typed_input_when_qonversion_fails(page: Page, live_server, project: Project, owner, sandbox):
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_role("button", name="+ New integration").click()
    form = page.get_by_role("form", name="New integration")
    form.get_by_label("Title").fill("Keep me")
    form.get_by_label("Provider").select_option("slack")
    form.get_by_label("Android").check()
    # Qonversion creates it, then answers 500 to every attempt: the outcome is unknown.
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations", after=True, status=500, times=3)
    form.get_by_role("button", name="Create integration").click()
    expect(form.get_by_role("alert")).to_contain_text("Qonversion had an internal error (500). It may or may not")
    expect(form.get_by_role("alert")).not_to_contain_text("Nothing was created")
    expect(form.get_by_label("Title")).to_have_value("Keep me")
    expect(form.get_by_label("Android")).to_be_checked()
    # The list reconciles with Qonversion by itself and shows what was made.
    expect(page.locator("#integration-rows tr", has_text="Keep me")).to_be_visible()
    # Pressing Create again finishes it without making a second one.
    form.get_by_role("button", name="Create integration").click()
    expect(page.get_by_text("Created “Keep me”")).to_be_visible()
    assert Integration.objects.filter(title="Keep me").count() == 1
