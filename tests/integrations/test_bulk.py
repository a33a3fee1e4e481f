"""Bulk pause, activate and delete: preview, then a per-row result."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from integrations.models import Integration, Status
from sandbox.control_client import SandboxControl
from teams.models import Project, Team
from tests.conftest import HTMX
from tests.factories import make_integration


def bulk_url(project: Project) -> str:
    return reverse("integration_bulk", kwargs={"project_id": project.pk})


@pytest.fixture
def three_active(project: Project, owner) -> list[Integration]:
    return [make_integration(project, owner, f"Active {n}", active=True) for n in range(3)]


@pytest.mark.django_db
def test_it_previews_before_changing_anything(project: Project, owner, owner_client, three_active, sandbox):
    paused = make_integration(project, owner, "Already paused")
    sandbox.clear_requests()
    ids = [str(i.pk) for i in [*three_active, paused]]
    html = owner_client.post(bulk_url(project), {"action": "pause", "ids": ids}, **HTMX).content.decode()
    assert "Pause 4 selected integrations?" in html
    assert html.count("Active → paused") == 3
    assert "Already paused: no change" in html
    assert ">Pause 3 integrations</button>" in html
    assert sandbox.requests() == []
    assert Integration.objects.filter(status=Status.ACTIVE).count() == 3


@pytest.mark.django_db
def test_it_applies_row_by_row_and_one_failure_does_not_stop_the_rest(
    project: Project, owner_client: Client, three_active, sandbox: SandboxControl
):
    broken = three_active[1]
    sandbox.add_fault(method="POST", path_prefix=f"/v4/integrations/{broken.qonversion_id}/status", status=503, times=3)
    ids = [str(i.pk) for i in three_active]
    html = owner_client.post(
        bulk_url(project), {"action": "pause", "ids": ids, "confirm": "yes"}, **HTMX
    ).content.decode()
    assert "Pause: 1 of 3 failed" in html
    assert re.search(rf'data-bulk-result="{three_active[0].pk}">\s*<strong>Active 0</strong>: Paused', html)
    failed = rf'data-bulk-result="{broken.pk}">\s*<strong>Active 1</strong>: <span role="alert">'
    assert re.search(failed + r"Qonversion had an internal error \(503\)\. It may or may not have gone through", html)
    assert re.search(rf'data-bulk-result="{three_active[2].pk}">\s*<strong>Active 2</strong>: Paused', html)
    states = {i.title: i.status for i in Integration.objects.all()}
    assert states == {"Active 0": Status.PAUSED, "Active 1": Status.ACTIVE, "Active 2": Status.PAUSED}
    # The list comes back out of band with what Qonversion reports.
    assert 'id="integration-list" aria-labelledby="integrations-heading" hx-swap-oob="true"' in html
    assert html.count('id="status-chips"') == 1  # swapped once
    assert AuditEvent.objects.filter(action="integration.pause", outcome="success").count() == 2
    # A 5xx may come after Qonversion made the change: recorded as unknown, and the row waits.
    assert AuditEvent.objects.filter(action="integration.pause", outcome="unknown").count() == 1
    assert Integration.objects.get(pk=broken.pk).pending_status == Status.PAUSED


@pytest.mark.django_db
def test_bulk_delete_warns_and_deletes(project: Project, owner_client: Client, three_active):
    ids = [str(i.pk) for i in three_active[:2]]
    preview = owner_client.post(bulk_url(project), {"action": "delete", "ids": ids}, **HTMX).content.decode()
    assert "Deletion in Qonversion is permanent" in preview
    owner_client.post(bulk_url(project), {"action": "delete", "ids": ids, "confirm": "yes"}, **HTMX)
    assert Integration.objects.filter(deleted_at__isnull=False).count() == 2


@pytest.mark.django_db
def test_ids_of_another_project_are_ignored(project: Project, owner, owner_client, three_active, team: Team, sandbox):
    other = Project(team=team, name="Other")
    other.set_secret_key("test_sk_other_project_key")
    other.save()
    foreign = make_integration(other, owner, "Foreign", active=True)
    html = owner_client.post(
        bulk_url(project), {"action": "pause", "ids": [str(foreign.pk)], "confirm": "yes"}, **HTMX
    ).content.decode()
    assert "Select at least one integration first." in html
    foreign.refresh_from_db()
    assert foreign.status == Status.ACTIVE


@pytest.mark.django_db
def test_an_unknown_action_is_refused(project: Project, owner_client: Client, three_active):
    assert (
        owner_client.post(bulk_url(project), {"action": "explode", "ids": [str(three_active[0].pk)]}).status_code == 400
    )


@pytest.mark.django_db
def test_bulk_works_without_javascript(project: Project, owner_client: Client, three_active):
    ids = [str(i.pk) for i in three_active]
    preview = owner_client.post(bulk_url(project), {"action": "pause", "ids": ids}).content.decode()
    assert "<html" in preview and "Pause 3 selected integrations?" in preview
    confirm = {"action": "pause", "ids": ids, "confirm": "yes"}
    done = owner_client.post(bulk_url(project), confirm, follow=True).content.decode()
    assert "<html" in done and "Pause: done" in done
    assert done.count('id="integration-list"') == 1
    assert Integration.objects.filter(status=Status.PAUSED).count() == 3


@pytest.mark.django_db
def test_odd_ids_are_ignored_not_a_crash(project: Project, owner_client: Client, three_active):
    ids = ["²", "9" * 30, "-1", str(three_active[0].pk)]
    html = owner_client.post(bulk_url(project), {"action": "pause", "ids": ids}, **HTMX).content.decode()
    assert "Pause 1 selected integration?" in html
