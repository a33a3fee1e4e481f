"""Day-to-day operation in the browser: pause/activate, delete, refresh, filter, bulk."""

import re

import pytest
from django.test import override_settings
from playwright.sync_api import Dialog, Page, expect

from integrations.models import BulkJob, Integration, Status
from integrations.sync import project_sync
from integrations.tasks import run_bulk_job
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.browser.conftest import sign_in
from tests.conftest import SANDBOX_KEY
from tests.factories import make_integration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_project(page: Page, live_server, project: Project) -> None:
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.evaluate("window.__sameDocument = true")


def row(page: Page, title: str):
    return page.locator("#integration-rows tr", has=page.get_by_role("link", name=title, exact=True))


def test_pause_then_activate_in_place(page: Page, live_server, project: Project, owner):
    make_integration(project, owner, "Amplitude prod", provider="amplitude", active=True)
    open_project(page, live_server, project)
    target = row(page, "Amplitude prod")
    expect(target.locator(".badge")).to_have_text("Active")
    target.get_by_role("button", name="Pause").click()
    expect(target.locator(".badge")).to_have_text("Paused")
    target.get_by_role("button", name="Activate").click()
    expect(target.locator(".badge")).to_have_text("Active")
    assert page.evaluate("window.__sameDocument") is True
    assert Integration.objects.get(title="Amplitude prod").status == Status.ACTIVE


def test_delete_with_confirmation(page: Page, live_server, project: Project, owner):
    integration = make_integration(project, owner, "Legacy webhook", provider="webhooks")
    open_project(page, live_server, project)
    questions: list[str] = []

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss() if len(questions) == 1 else dialog.accept()

    page.on("dialog", answer)
    row(page, "Legacy webhook").get_by_role("button", name="Delete").click()
    expect(row(page, "Legacy webhook")).to_have_count(1)  # dismissed: nothing happens
    row(page, "Legacy webhook").get_by_role("button", name="Delete").click()
    expect(row(page, "Legacy webhook")).to_have_count(0)
    assert (
        "Legacy webhook" in questions[0] and "permanent" in questions[0] and integration.qonversion_id in questions[0]
    )
    expect(page.get_by_role("status").filter(has_text="Deleted “Legacy webhook” in Qonversion")).to_be_visible()
    page.locator("label.chip", has_text="Deleted").click()
    expect(row(page, "Legacy webhook")).to_contain_text("by alice")


def test_refresh_picks_up_an_integration_made_elsewhere(
    page: Page, live_server, project: Project, owner, sandbox: SandboxControl
):
    make_integration(project, owner, "Ours")
    open_project(page, live_server, project)
    sandbox.create_external(
        key=SANDBOX_KEY, title="Made in another tool", integration="mixpanel", target_platform="Android", active=1
    )
    page.get_by_role("button", name="↻ Refresh").click()
    new_row = row(page, "Made in another tool")
    expect(new_row).to_be_visible()
    expect(new_row.locator(".badge")).to_have_text("Active")
    expect(page.locator("#sync-status")).to_contain_text("Synced")
    assert page.evaluate("window.__sameDocument") is True


def test_filter_and_search_live_in_the_url(page: Page, live_server, project: Project, owner):
    make_integration(project, owner, "Amplitude iOS", provider="amplitude", active=True)
    make_integration(project, owner, "Amplitude Android", provider="amplitude", platform="Android")
    make_integration(project, owner, "Slack alerts", provider="slack")
    open_project(page, live_server, project)
    page.locator("label.chip", has_text="Paused").click()
    expect(page).to_have_url(re.compile(r"status=paused"))
    expect(page.locator("#integration-rows tr")).to_have_count(2)
    page.get_by_role("searchbox", name="Search title").fill("ampli")
    expect(page).to_have_url(re.compile(r"status=paused&q=ampli|q=ampli.*status=paused"))
    expect(page.locator("#integration-rows tr")).to_have_count(1)
    expect(row(page, "Amplitude Android")).to_be_visible()
    # The URL is shareable: opening it fresh gives the same view.
    shared = page.url
    page.goto(shared)
    expect(page.locator("#integration-rows tr")).to_have_count(1)
    expect(page.get_by_role("searchbox", name="Search title")).to_have_value("ampli")
    # And the back button goes back through the filters, one step at a time.
    page.go_back()
    expect(page).to_have_url(re.compile(r"status=paused$"))
    expect(page.locator("#integration-rows tr")).to_have_count(2)
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/$"))
    expect(page.locator("#integration-rows tr")).to_have_count(3)


def test_bulk_pause_over_three_rows(page: Page, live_server, project: Project, owner):
    for n in range(3):
        make_integration(project, owner, f"Active {n}", active=True)
    make_integration(project, owner, "Left alone", active=True)
    open_project(page, live_server, project)
    for n in range(3):
        row(page, f"Active {n}").get_by_role("checkbox").check()
    expect(page.get_by_text("With 3 selected:")).to_be_visible()
    page.locator("#bulk-form").get_by_role("button", name="Pause").click()
    expect(page.get_by_role("heading", name="Pause 3 selected integrations?")).to_be_visible()
    page.get_by_role("button", name="Pause 3 integrations").click()
    expect(page.get_by_role("heading", name="Pause: done")).to_be_visible()
    for n in range(3):
        expect(row(page, f"Active {n}").locator(".badge")).to_have_text("Paused")
    expect(row(page, "Left alone").locator(".badge")).to_have_text("Active")
    assert page.evaluate("window.__sameDocument") is True


def test_a_long_bulk_action_runs_in_the_background_and_shows_progress(
    page: Page, live_server, project: Project, owner, sandbox: SandboxControl
):
    for n in range(3):
        make_integration(project, owner, f"Slow {n}", active=True)
    open_project(page, live_server, project)
    page.get_by_label("Select all shown").check()
    page.locator("#bulk-form").get_by_role("button", name="Pause").click()
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        page.get_by_role("button", name="Pause 3 integrations").click()
        expect(page.get_by_role("heading", name="Pause: 0 of 3 done, working on the rest…")).to_be_visible()
        # The page stays usable meanwhile: the filters still work.
        page.get_by_label("Search title").fill("Slow 1")
        expect(page.locator("#integration-rows tr")).to_have_count(1)
        # A worker picks the job up; the panel, polling, shows each row's result.
        run_bulk_job.call(BulkJob.objects.get().pk)
    expect(page.get_by_role("heading", name="Pause: done")).to_be_visible(timeout=10_000)
    expect(page.locator("#bulk-result-lines li", has_text="Paused")).to_have_count(3)
    assert set(Integration.objects.values_list("status", flat=True)) == {Status.PAUSED}
    assert page.evaluate("window.__sameDocument") is True


def test_a_broken_row_keeps_its_title_readable_and_its_buttons_in_view(
    page: Page, live_server, project: Project, owner, sandbox: SandboxControl
):
    """A 1,400-px window, an integration in Error (its "in Error since" line) with a long
    error, one whose title is a pasted URL, and an ordinary one."""
    page.set_viewport_size({"width": 1400, "height": 900})
    broken = make_integration(project, owner, "Legacy webhook", provider="webhooks", active=True)
    make_integration(project, owner, "https://hooks.example.com/" + "x" * 120, provider="webhooks", active=True)
    make_integration(project, owner, "Amplitude - Production iOS", provider="amplitude", active=True)
    sandbox.deliveries(
        key=SANDBOX_KEY,
        integration_id=broken.qonversion_id,
        outcome="failure",
        count=5,
        message="401 from endpoint: bad key " + "detail " * 30,
    )
    project_sync(project=project)
    open_project(page, live_server, project)
    expect(row(page, "Legacy webhook").locator(".error-since")).to_contain_text("in Error since")
    for title in ("Legacy webhook", "Amplitude - Production iOS"):
        cell = row(page, title).locator("td.title").bounding_box()
        assert cell is not None and cell["width"] >= 9 * 16, f"{title}: title column squeezed to {cell}"
    # In view: inside the table's scroll box, which clips what is wider than the page.
    visible = page.locator(".table-scroll").bounding_box()
    assert visible is not None
    right = min(1400, visible["x"] + visible["width"])
    buttons = page.locator("#integration-rows td.actions").get_by_role("button").all()
    assert len(buttons) == 6  # Pause or Activate, and Delete, on each row
    for button in buttons:
        box = button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= right, f"a row button is out of view: {box}"
