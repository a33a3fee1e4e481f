"""When Qonversion may have acted on a request but did not say so (an answer lost after the
commit, a 5xx, a 2xx we cannot read, a timeout), the user is told it may have gone
through, nothing typed is lost, and a refresh settles what really happened."""

import time
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from integrations.clients import client_for_project
from integrations.models import Integration, Status
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import HTMX
from tests.factories import make_integration


def create_url(project: Project) -> str:
    return reverse("integration_create", kwargs={"project_id": project.pk})


def status_url(integration: Integration) -> str:
    return reverse(
        "integration_status", kwargs={"project_id": integration.project_id, "integration_id": integration.pk}
    )


def refresh(client: Client, project: Project) -> str:
    return client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), **HTMX).content.decode()


def form(title: str) -> dict[str, str]:
    return {"title": title, "provider": "slack", "platform": "iOS", "idempotency_key": str(uuid.uuid4())}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fault",
    [
        {"after": True, "status": 500, "times": 3},  # created, then a 500 for every attempt
        {"after": True, "garbage": "not_json", "status": 201},  # created, answer unreadable
        {"after": True, "garbage": "truncated_json", "status": 201},
    ],
)
def test_a_create_that_may_have_happened_is_not_called_nothing_and_a_resubmit_finishes_it(
    project: Project, owner_client: Client, sandbox: SandboxControl, fault: dict[str, object]
):
    owner_client.get(create_url(project), **HTMX)
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations", **fault)
    data = form("Maybe made")
    response = owner_client.post(create_url(project), data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "It may or may not have gone through; your input is kept" in html
    assert "Nothing was created" not in html
    assert "press Create again to finish" in html
    assert f'value="{data["idempotency_key"]}"' in html  # the same submission key, for the resubmit
    assert 'value="Maybe made"' in html
    assert "qonadmin:reconcile" in response["HX-Trigger"]  # the list asks Qonversion what exists
    assert [i.title for i in client_for_project(project).list_integrations()] == ["Maybe made"]
    assert AuditEvent.objects.get(action="integration.create").outcome == "unknown"
    # The reconciling refresh shows it; pressing Create again does not make a second one.
    assert "Maybe made" in refresh(owner_client, project)
    html = owner_client.post(create_url(project), data, **HTMX).content.decode()
    assert "Created “Maybe made”" in html
    assert [i.title for i in client_for_project(project).list_integrations()] == ["Maybe made"]
    assert Integration.objects.filter(title="Maybe made").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("fault", [{"status": 422}, {"status": 401}, {"status": 429, "retry_after": 0, "times": 3}])
def test_a_refused_create_says_nothing_was_created(
    project: Project, owner_client: Client, sandbox: SandboxControl, fault: dict[str, object]
):
    owner_client.get(create_url(project), **HTMX)
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations", **fault)
    html = owner_client.post(create_url(project), form("Refused"), **HTMX).content.decode()
    assert "Nothing was created" in html
    assert "may or may not" not in html
    assert client_for_project(project).list_integrations() == []


@pytest.mark.django_db
def test_a_pause_answered_unreadably_waits_for_confirmation_and_a_refresh_settles_it(
    project: Project, owner, owner_client: Client, sandbox: SandboxControl
):
    integration = make_integration(project, owner, "Unclear", active=True)
    path = f"/v4/integrations/{integration.qonversion_id}/status"
    sandbox.add_fault(method="POST", path_prefix=path, after=True, garbage="not_json", status=200)
    html = owner_client.post(status_url(integration), {"status": "paused"}, **HTMX).content.decode()
    assert "Waiting for Qonversion to confirm: paused" in html
    assert "It may or may not have gone through" in html
    assert "not changed" not in html
    assert AuditEvent.objects.get(action="integration.pause").outcome == "unknown"
    # Qonversion did pause it; the next refresh confirms and the note goes.
    listed = refresh(owner_client, project)
    integration.refresh_from_db()
    assert integration.status == Status.PAUSED
    assert integration.pending_status == ""
    assert "Waiting for Qonversion to confirm" not in listed


@pytest.mark.django_db
def test_a_late_pause_cannot_override_a_newer_activate(
    project: Project, owner, owner_client: Client, sandbox: SandboxControl, settings
):
    settings.QONVERSION_READ_TIMEOUT = 0.3
    settings.QONVERSION_MAX_RETRIES = 0
    integration = make_integration(project, owner, "Racy", active=True)
    path = f"/v4/integrations/{integration.qonversion_id}/status"
    # Qonversion is slow: it applies the pause after we stopped waiting for it.
    sandbox.add_fault(method="POST", path_prefix=path, delay=0.8)
    html = owner_client.post(status_url(integration), {"status": "paused"}, **HTMX).content.decode()
    assert "did not answer within 0.3 s. It may or may not have gone through" in html
    assert "Waiting for Qonversion to confirm: paused" in html
    # The opposite change is refused while the first may still land...
    html = owner_client.post(status_url(integration), {"status": "active"}, **HTMX).content.decode()
    assert "Qonversion has not confirmed the earlier change to paused" in html
    assert not [r for r in sandbox.requests() if r["path"] == path and r.get("body", {}).get("status") == 1]
    # ...it lands, a refresh confirms it, and only then is Activate sent: nothing overrides it.
    deadline = time.monotonic() + 5
    while client_for_project(project).list_integrations()[0].status != Status.PAUSED:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    refresh(owner_client, project)
    html = owner_client.post(status_url(integration), {"status": "active"}, **HTMX).content.decode()
    assert '<span class="badge-label">Active</span>' in html
    time.sleep(0.2)
    assert client_for_project(project).list_integrations()[0].status == Status.ACTIVE


@pytest.mark.django_db
def test_a_change_never_confirmed_is_settled_by_the_listed_state_after_the_window(
    project: Project, owner, owner_client: Client, settings
):
    integration = make_integration(project, owner, "Never landed", active=True)
    asked = timezone.now() - timedelta(seconds=settings.QONADMIN_CONFIRM_WINDOW_SECONDS + 1)
    Integration.objects.filter(pk=integration.pk).update(pending_status=Status.PAUSED, pending_since=asked)
    refresh(owner_client, project)
    integration.refresh_from_db()
    assert integration.pending_status == ""
    assert integration.status == Status.ACTIVE
    # And a new change is allowed again.
    html = owner_client.post(status_url(integration), {"status": "paused"}, **HTMX).content.decode()
    assert '<span class="badge-label">Paused</span>' in html


@pytest.mark.django_db
def test_a_failed_refresh_says_what_it_shows_and_nothing_about_duplicates(
    project: Project, owner_client: Client, sandbox: SandboxControl
):
    sandbox.add_fault(method="GET", path_prefix="/v4/integrations", drop=True, times=3)
    response = owner_client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), follow=True)
    text = response.content.decode()
    assert "Could not refresh from Qonversion" in text
    assert "Showing the last known data" in text
    assert "duplicate" not in text
    assert "may or may not" not in text
