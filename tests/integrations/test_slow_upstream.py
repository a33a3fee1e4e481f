"""A slow Qonversion never takes the dashboard down: every wait on it is bounded, pages
never wait on a refresh, refreshes of one project do not pile up, and bulk work goes in
bounded steps that report progress."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import Integration, Status
from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import HTMX
from tests.factories import make_integration


def status_url(integration: Integration) -> str:
    return reverse(
        "integration_status", kwargs={"project_id": integration.project_id, "integration_id": integration.pk}
    )


def upstream_lists(sandbox: SandboxControl) -> int:
    return len([r for r in sandbox.requests() if r["method"] == "GET" and r["path"] == "/v4/integrations"])


@pytest.mark.django_db
def test_no_action_waits_on_qonversion_longer_than_the_deadline(
    project: Project, owner, owner_client: Client, sandbox: SandboxControl, settings
):
    # Read timeout and retries would allow far longer; the deadline cuts every attempt.
    settings.QONVERSION_READ_TIMEOUT = 10
    settings.QONVERSION_DEADLINE_SECONDS = 1
    integration = make_integration(project, owner, "Slow")
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations/", delay=3, times=3)
    started = time.monotonic()
    html = owner_client.post(status_url(integration), {"status": "active"}, **HTMX).content.decode()
    waited = time.monotonic() - started
    assert waited < 2.5, f"waited {waited:.1f} s on a 1 s deadline"
    assert "Qonversion did not answer within 1 s" in html


@pytest.mark.django_db
def test_the_page_never_calls_qonversion(project: Project, owner_client: Client, sandbox: SandboxControl):
    sandbox.add_fault(delay=5, times=5)  # anything sent upstream would be slow
    started = time.monotonic()
    response = owner_client.get(reverse("project_detail", kwargs={"project_id": project.pk}))
    assert response.status_code == 200
    assert time.monotonic() - started < 2
    assert sandbox.requests() == [] or all(not r["path"].startswith("/v4") for r in sandbox.requests())
    sandbox.clear_faults()


@pytest.mark.django_db
def test_a_refresh_does_not_queue_behind_another_refresh_of_the_same_project(
    project: Project, owner_client: Client, sandbox: SandboxControl
):
    # Another process is refreshing this project right now.
    Project.objects.filter(pk=project.pk).update(sync_started_at=timezone.now())
    before = upstream_lists(sandbox)
    result = project_sync(project=project)
    assert result.skipped
    assert upstream_lists(sandbox) == before
    response = owner_client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), follow=True)
    assert "Another refresh of this project is under way" in response.content.decode()
    assert upstream_lists(sandbox) == before


@pytest.mark.django_db
def test_a_refresh_that_died_does_not_block_the_next_one(project: Project, sandbox: SandboxControl, settings):
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.QONVERSION_DEADLINE_SECONDS + 10)
    Project.objects.filter(pk=project.pk).update(sync_started_at=long_ago)
    assert not project_sync(project=project).skipped
    assert Project.objects.get(pk=project.pk).sync_started_at is None  # released after the refresh


@pytest.mark.django_db
def test_bulk_work_goes_in_bounded_steps_with_progress(
    project: Project, owner, owner_client: Client, sandbox: SandboxControl, settings
):
    settings.QONADMIN_BULK_STEP_SECONDS = 1.0
    rows = [make_integration(project, owner, f"Row {n}", active=True) for n in range(3)]
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations/", delay=0.5, times=3)
    url = reverse("integration_bulk", kwargs={"project_id": project.pk})
    data = {"action": "pause", "ids": [str(r.pk) for r in rows], "confirm": "yes"}
    html = owner_client.post(url, data, **HTMX).content.decode()
    assert "Pause: 1 of 3 done, working on the rest…" in html
    assert '<progress value="1" max="3"' in html
    # The next step starts by itself (hx-trigger="load") with the rows left.
    continuation = re.search(r'<div id="bulk-continue">(.*?)</div>', html, re.S)
    assert continuation is not None and 'hx-trigger="load"' in continuation.group(1)
    left = re.findall(r'name="ids" value="(\d+)"', continuation.group(1))
    assert left == [str(rows[1].pk), str(rows[2].pk)]
    steps = 1
    while left:
        step = {"action": "pause", "ids": left, "confirm": "yes", "total": "3", "done": str(3 - len(left))}
        html = owner_client.post(url, {**step, "failed": "0"}, **HTMX).content.decode()
        steps += 1
        assert 'id="bulk-progress" hx-swap-oob="true"' in html
        continuation = re.search(r'<div id="bulk-continue" hx-swap-oob="true">(.*?)</div>', html, re.S)
        assert continuation is not None
        left = re.findall(r'name="ids" value="(\d+)"', continuation.group(1))
    assert steps == 3
    assert "Pause: done" in html
    assert '<progress value="3" max="3"' in html
    assert set(Integration.objects.values_list("status", flat=True)) == {Status.PAUSED}


@pytest.mark.django_db
def test_bulk_without_javascript_offers_to_continue(
    project: Project, owner, owner_client: Client, sandbox: SandboxControl, settings
):
    settings.QONADMIN_BULK_STEP_SECONDS = 1.0
    rows = [make_integration(project, owner, f"Row {n}", active=True) for n in range(2)]
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations/", delay=0.5, times=2)
    url = reverse("integration_bulk", kwargs={"project_id": project.pk})
    html = owner_client.post(url, {"action": "pause", "ids": [str(r.pk) for r in rows], "confirm": "yes"}).content
    assert "Continue with the remaining 1" in html.decode()
