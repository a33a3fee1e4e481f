"""Pause, activate, delete and details of one integration."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from integrations.clients import client_for_project
from integrations.models import Integration, Status
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import HTMX, SANDBOX_KEY, login
from tests.factories import make_integration

PAGE_URL = "/projects/{}/"


def status_url(integration: Integration) -> str:
    return reverse(
        "integration_status", kwargs={"project_id": integration.project_id, "integration_id": integration.pk}
    )


def delete_url(integration: Integration) -> str:
    return reverse(
        "integration_delete", kwargs={"project_id": integration.project_id, "integration_id": integration.pk}
    )


def detail_url(integration: Integration) -> str:
    return reverse(
        "integration_detail", kwargs={"project_id": integration.project_id, "integration_id": integration.pk}
    )


def badge(html: str) -> str:
    match = re.search(r'<span class="badge-label">(\w+)</span>', html)
    assert match is not None, html[:500]
    return match.group(1)


def chip_count(html: str, name: str) -> int:
    match = re.search(rf'data-count="{name}">(\d+)<', html)
    assert match is not None
    return int(match.group(1))


@pytest.mark.django_db
def test_it_pauses_and_activates_a_row_in_place(project: Project, owner, owner_client: Client):
    integration = make_integration(project, owner, "Amplitude prod", active=True)
    html = owner_client.post(status_url(integration), {"status": "paused"}, **HTMX).content.decode()
    assert html.lstrip().startswith(f'<tr id="integration-{integration.pk}"')
    assert badge(html) == "Paused"
    assert 'id="status-chips" class="chips" hx-swap-oob="true"' in html
    assert chip_count(html, "paused") == 1
    assert ">Activate</button>" in html
    html = owner_client.post(status_url(integration), {"status": "active"}, **HTMX).content.decode()
    assert badge(html) == "Active"
    assert ">Pause</button>" in html
    integration.refresh_from_db()
    assert integration.status == Status.ACTIVE
    actions = list(AuditEvent.objects.filter(target_id=integration.qonversion_id).values_list("action", "outcome"))
    assert ("integration.pause", "success") in actions
    assert ("integration.activate", "success") in actions


@pytest.mark.django_db
def test_it_recovers_an_integration_in_error(project: Project, owner, owner_client: Client, sandbox: SandboxControl):
    integration = make_integration(project, owner, "Broken", active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5)
    owner_client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), **HTMX)
    integration.refresh_from_db()
    assert integration.status == Status.ERROR
    html = owner_client.post(status_url(integration), {"status": "active"}, **HTMX).content.decode()
    assert badge(html) == "Active"


@pytest.mark.django_db
def test_it_shows_what_qonversion_reports_not_what_it_assumed(project: Project, owner, owner_client, sandbox):
    # Our mirror says Paused; meanwhile someone else activated it and the worker
    # suspended it. Pausing from here ends in what Qonversion reports.
    integration = make_integration(project, owner, "Contested")
    upstream = client_for_project(project)
    upstream.set_status(integration.qonversion_id, active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5)
    html = owner_client.post(status_url(integration), {"status": "active"}, **HTMX).content.decode()
    assert badge(html) == "Active"
    event = AuditEvent.objects.filter(action="integration.activate").latest("pk")
    assert event.detail["before"] == {"status": "paused"}
    assert event.detail["after"] == {"status": "active"}


@pytest.mark.django_db
def test_a_failed_action_keeps_the_old_state_and_says_why(project: Project, owner, owner_client, sandbox):
    integration = make_integration(project, owner, "Steady", active=True)
    sandbox.add_fault(
        method="POST", path_prefix=f"/v4/integrations/{integration.qonversion_id}/status", status=503, times=3
    )
    html = owner_client.post(status_url(integration), {"status": "paused"}, **HTMX).content.decode()
    # A 5xx may come after the change was made: the row keeps what Qonversion last reported
    # and says it waits for a refresh to confirm, rather than "not changed".
    assert badge(html) == "Active"
    assert "Waiting for Qonversion to confirm: paused" in html
    assert re.search(r'class="row-error" role="alert">Qonversion had an internal error \(503\)\. It may or may', html)
    assert "not changed" not in html
    integration.refresh_from_db()
    assert integration.status == Status.ACTIVE
    failure = AuditEvent.objects.get(action="integration.pause", outcome="unknown")
    assert failure.detail["upstream"]["status"] == 503
    assert failure.detail["request"] == {"status": "paused"}


@pytest.mark.django_db
def test_an_integration_gone_upstream_leaves_the_list(project: Project, owner, owner_client, sandbox):
    integration = make_integration(project, owner, "Vanished")
    client_for_project(project).delete_integration(integration.qonversion_id)
    response = owner_client.post(status_url(integration), {"status": "active"}, **HTMX)
    html = response.content.decode()
    assert f'id="integration-{integration.pk}"' not in html
    assert "Qonversion no longer has this integration (404)" in html  # the out-of-band message
    integration.refresh_from_db()
    assert integration.deleted_at is not None


@pytest.mark.django_db
def test_status_without_javascript_redirects_back_with_a_message(project: Project, owner, owner_client):
    integration = make_integration(project, owner, "Plain", active=True)
    response = owner_client.post(
        status_url(integration), {"status": "paused", "next": f"/projects/{project.pk}/?status=active"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/projects/{project.pk}/?status=active"
    assert "Paused “Plain”. Qonversion reports it Paused." in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_a_next_url_off_the_site(project: Project, owner, owner_client):
    integration = make_integration(project, owner, "Plain", active=True)
    response = owner_client.post(status_url(integration), {"status": "paused", "next": "https://evil.example/"})
    assert response["Location"] == f"/projects/{project.pk}/"


@pytest.mark.django_db
def test_it_rejects_an_unknown_status(project: Project, owner, owner_client, sandbox):
    integration = make_integration(project, owner, "Plain")
    sandbox.clear_requests()
    assert owner_client.post(status_url(integration), {"status": "error"}, **HTMX).status_code == 400
    assert sandbox.requests() == []


@pytest.mark.django_db
def test_delete_asks_for_confirmation_naming_the_integration(project: Project, owner, owner_client: Client):
    integration = make_integration(project, owner, "Legacy webhook")
    page = owner_client.get(PAGE_URL.format(project.pk)).content.decode()
    # With JavaScript the link asks (app.js, browser-tested); its row carries the id it names.
    assert f'data-qonversion-id="{integration.qonversion_id}"' in page
    assert re.search(rf'hx-post="{delete_url(integration)}" data-confirm-delete>Delete</a>', page)
    confirm = owner_client.get(delete_url(integration)).content.decode()  # without JavaScript
    assert "Delete “Legacy webhook”?" in confirm
    assert f"its id {integration.qonversion_id} is never reused" in confirm
    assert Integration.objects.get(pk=integration.pk).deleted_at is None


@pytest.mark.django_db
def test_delete_removes_the_row_and_the_deleted_filter_shows_who(project: Project, owner, owner_client, sandbox):
    integration = make_integration(project, owner, "Legacy webhook")
    html = owner_client.post(delete_url(integration), **HTMX).content.decode()
    assert f'id="integration-{integration.pk}"' not in html
    assert chip_count(html, "deleted") == 1 and chip_count(html, "all") == 0
    assert f"Deleted “Legacy webhook” in Qonversion. Its id {integration.qonversion_id} will not be reused." in html
    assert client_for_project(project).list_integrations() == []
    deleted_view = owner_client.get(PAGE_URL.format(project.pk) + "?status=deleted").content.decode()
    assert "Legacy webhook" in deleted_view
    assert " by alice" in deleted_view
    live_view = owner_client.get(PAGE_URL.format(project.pk)).content.decode()
    assert "Legacy webhook" not in live_view
    assert AuditEvent.objects.get(action="integration.delete").outcome == "success"


@pytest.mark.django_db
def test_a_failed_delete_keeps_the_row(project: Project, owner, owner_client, sandbox):
    integration = make_integration(project, owner, "Stays")
    sandbox.add_fault(method="DELETE", status=422, times=1)
    html = owner_client.post(delete_url(integration), **HTMX).content.decode()
    assert f'id="integration-{integration.pk}"' in html
    assert "Nothing was deleted" in html
    integration.refresh_from_db()
    assert integration.deleted_at is None


@pytest.mark.django_db
def test_delete_of_one_already_gone_upstream_still_completes(project: Project, owner, owner_client, sandbox):
    integration = make_integration(project, owner, "Already gone")
    client_for_project(project).delete_integration(integration.qonversion_id)
    owner_client.post(delete_url(integration), **HTMX)
    integration.refresh_from_db()
    assert integration.deleted_at is not None
    assert AuditEvent.objects.get(action="integration.delete").detail["already_deleted_upstream"] is True


@pytest.mark.django_db
def test_delete_without_javascript(project: Project, owner, owner_client):
    integration = make_integration(project, owner, "Plain")
    response = owner_client.post(delete_url(integration), follow=True)
    assert "Deleted “Plain” in Qonversion." in response.content.decode()


@pytest.mark.django_db
def test_details_show_the_full_escaped_error_and_history(project: Project, owner, owner_client, sandbox):
    integration = make_integration(project, owner, "Broken", active=True)
    long_message = "401 from endpoint: <script>alert(1)</script> " + "x" * 400
    sandbox.deliveries(
        key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5, message=long_message
    )
    owner_client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), **HTMX)
    html = owner_client.get(detail_url(integration), **HTMX).content.decode()
    assert html.lstrip().startswith(f'<tr class="details-row" id="details-{integration.pk}">')
    assert "&lt;script&gt;alert(1)&lt;/script&gt; " + "x" * 400 in html
    assert "<script>alert" not in html
    assert f'data-copy="{integration.qonversion_id}"' in html
    assert "integration.create by alice" in html and "integration.activate by alice" in html
    page = owner_client.get(detail_url(integration)).content.decode()
    assert "<html" in page and "History in qonadmin" in page


@pytest.mark.django_db
def test_a_viewer_sees_no_controls(project: Project, owner, viewer):
    make_integration(project, owner, "Look only", active=True)
    html = login(viewer).get(PAGE_URL.format(project.pk)).content.decode()
    assert "Look only" in html
    for control in (">Pause</button>", ">Activate</button>", ">Delete</a>", 'name="ids"', "New integration"):
        assert control not in html
