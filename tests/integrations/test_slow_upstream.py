"""A slow Qonversion never takes the dashboard down: every wait on it is bounded, pages
never wait on a refresh, refreshes of one project do not pile up, and bulk work goes in
bounded steps that report progress."""

import time

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from integrations.models import BulkJob, Integration, Status
from integrations.sync import project_sync
from integrations.tasks import run_bulk_job
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
    # The sandbox still answers the abandoned request later; let it, before the next test.
    deadline = time.monotonic() + 5
    while not [r for r in sandbox.requests() if r["path"].endswith("/status") and r["status"]]:
        assert time.monotonic() < deadline
        time.sleep(0.1)


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
    # With HTMX the list asks again a second later, so it never stays behind the other refresh.
    html = owner_client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), **HTMX).content.decode()
    assert 'hx-trigger="load delay:1s, qonadmin:poll from:body' in html
    assert upstream_lists(sandbox) == before


@pytest.mark.django_db
def test_a_refresh_that_died_does_not_block_the_next_one(project: Project, sandbox: SandboxControl, settings):
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.QONVERSION_DEADLINE_SECONDS + 10)
    Project.objects.filter(pk=project.pk).update(sync_started_at=long_ago)
    assert not project_sync(project=project).skipped
    assert Project.objects.get(pk=project.pk).sync_started_at is None  # released after the refresh


@pytest.mark.django_db
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_bulk_work_runs_in_a_worker_and_the_panel_polls_its_progress(
    project: Project, owner, owner_client: Client, sandbox: SandboxControl
):
    rows = [make_integration(project, owner, f"Row {n}", active=True) for n in range(3)]
    url = reverse("integration_bulk", kwargs={"project_id": project.pk})
    data = {"action": "pause", "ids": [str(r.pk) for r in rows], "confirm": "yes"}
    sandbox.clear_requests()
    started = time.monotonic()
    html = owner_client.post(url, data, **HTMX).content.decode()
    assert time.monotonic() - started < 2  # the request only hands the work over
    assert "Pause: 0 of 3 done, working on the rest…" in html
    job = BulkJob.objects.get()
    poll = reverse("integration_bulk_job", kwargs={"project_id": project.pk, "job_id": job.pk})
    assert f'hx-get="{poll}' in html and 'hx-trigger="every 1s"' in html
    assert not [r for r in sandbox.requests() if r["method"] == "POST"]  # nothing sent from the request
    # A worker runs it; the next poll shows every row's result and stops polling.
    run_bulk_job.call(job.pk)
    html = owner_client.get(poll, **HTMX).content.decode()
    assert "Pause: done" in html
    assert '<progress value="3" max="3"' in html
    assert 'hx-trigger="every 1s"' not in html
    assert html.count('class="bulk-ok"') == 3
    assert 'id="integration-list" aria-labelledby="integrations-heading" hx-swap-oob="true"' in html
    assert set(Integration.objects.values_list("status", flat=True)) == {Status.PAUSED}


@pytest.mark.django_db
def test_bulk_without_javascript_lands_on_the_jobs_page(project: Project, owner, owner_client: Client):
    rows = [make_integration(project, owner, f"Row {n}", active=True) for n in range(2)]
    url = reverse("integration_bulk", kwargs={"project_id": project.pk})
    response = owner_client.post(url, {"action": "pause", "ids": [str(r.pk) for r in rows], "confirm": "yes"})
    job = BulkJob.objects.get()
    assert response["Location"] == reverse("integration_bulk_job", kwargs={"project_id": project.pk, "job_id": job.pk})
    page = owner_client.get(response["Location"]).content.decode()
    assert "Pause: done" in page and "<html" in page


@pytest.mark.django_db
def test_a_bulk_job_of_another_project_is_not_found(project: Project, owner, owner_client: Client, team):
    other = Project(team=team, name="Other")
    other.set_secret_key("test_sk_other_project_key")
    other.save()
    job = BulkJob.objects.create(project=other, actor=owner, action="pause", integration_ids=[])
    url = reverse("integration_bulk_job", kwargs={"project_id": project.pk, "job_id": job.pk})
    assert owner_client.get(url).status_code == 404
