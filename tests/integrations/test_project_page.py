"""The project page: the mirror, its status badges and its refresh from Qonversion."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.clients import client_for_project
from integrations.models import Integration, IntegrationChange, Status
from integrations.services import integration_create, integration_set_status
from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import HTMX, SANDBOX_KEY


def page_url(project: Project) -> str:
    return reverse("project_detail", kwargs={"project_id": project.pk})


def refresh_url(project: Project) -> str:
    return reverse("project_refresh", kwargs={"project_id": project.pk})


def make(project: Project, owner, title: str, *, provider: str = "slack", platform: str = "iOS") -> Integration:
    return integration_create(
        project=project,
        actor=owner,
        title=title,
        provider_slug=provider,
        platform=platform,
        idempotency_key=f"key-{title}",
    )


def row_html(html: str, integration: Integration) -> str:
    match = re.search(rf'<tr id="integration-{integration.pk}".*?</tr>', html, re.S)
    assert match is not None, f"no row for {integration}"
    return match.group(0)


def badge(row: str) -> str:
    match = re.search(r'<span class="badge-label">(\w+)</span>', row)
    assert match is not None
    return match.group(1)


@pytest.mark.django_db
def test_it_shows_every_state_with_its_details(project: Project, owner, owner_client: Client, sandbox: SandboxControl):
    paused = make(project, owner, "Slack alerts")
    active = make(project, owner, "Amplitude prod", provider="amplitude")
    broken = make(project, owner, "Legacy webhook", provider="webhooks", platform="Android")
    for integration in (active, broken):
        integration_set_status(integration=integration, actor=owner, active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=active.qonversion_id, outcome="success", count=2)
    sandbox.deliveries(
        key=SANDBOX_KEY,
        integration_id=broken.qonversion_id,
        outcome="failure",
        count=5,
        message="401 from endpoint: <b>bad key</b>",
    )
    project_sync(project=project)

    html = owner_client.get(page_url(project)).content.decode()
    assert badge(row_html(html, paused)) == "Paused"
    assert badge(row_html(html, active)) == "Active"
    broken_row = row_html(html, broken)
    assert badge(broken_row) == "Error"
    assert "401 from endpoint: &lt;b&gt;bad key&lt;/b&gt;" in broken_row  # upstream text is never HTML
    assert '<span class="error-count" title="Delivery errors since the last successful delivery">5</span>' in broken_row
    assert "Webhooks" in broken_row
    assert "Android" in broken_row
    # Relative time with the exact UTC time on hover.
    assert re.search(r'<time datetime="[\d-]+T[\d:]+Z" title="[\d-]+ [\d:]+ UTC">', row_html(html, active))
    assert "never" in row_html(html, paused)
    # Broken ones first.
    assert html.index(f'id="integration-{broken.pk}"') < html.index(f'id="integration-{active.pk}"')
    assert html.index(f'id="integration-{active.pk}"') < html.index(f'id="integration-{paused.pk}"')
    assert "Synced" in html
    assert '<svg class="icon"' in broken_row  # icon beside word and colour


@pytest.mark.django_db
def test_the_first_open_shows_the_page_at_once_and_loads_the_list_after(
    project: Project, owner_client: Client, sandbox: SandboxControl
):
    sandbox.create_external(
        key=SANDBOX_KEY, title="Made elsewhere", integration="mixpanel", target_platform="iOS", active=1
    )
    html = owner_client.get(page_url(project)).content.decode()
    assert "Loading from Qonversion…" in html
    assert 'hx-trigger="load, qonadmin:poll from:body' in html
    assert not [r for r in sandbox.requests() if r["path"] == "/v4/integrations"]  # the page did not wait
    listed = owner_client.post(refresh_url(project), **HTMX).content.decode()
    assert "Made elsewhere" in listed
    project.refresh_from_db()
    assert project.synced_at is not None


@pytest.mark.django_db
def test_a_stale_page_asks_for_a_refresh_on_load_and_a_fresh_one_does_not(project: Project, owner_client: Client):
    project_sync(project=project)
    fresh = owner_client.get(page_url(project)).content.decode()
    assert 'hx-trigger="qonadmin:poll from:body, qonadmin:reconcile from:body"' in fresh
    Project.objects.filter(pk=project.pk).update(synced_at=timezone.now() - timedelta(seconds=31))
    stale = owner_client.get(page_url(project)).content.decode()
    assert 'hx-trigger="load, qonadmin:poll from:body, qonadmin:reconcile from:body"' in stale


@pytest.mark.django_db
def test_refresh_picks_up_upstream_changes(project: Project, owner, owner_client: Client, sandbox: SandboxControl):
    integration = make(project, owner, "Amplitude prod", provider="amplitude")
    integration_set_status(integration=integration, actor=owner, active=True)
    sandbox.deliveries(
        key=SANDBOX_KEY,
        integration_id=integration.qonversion_id,
        outcome="failure",
        count=5,
        message="Rate limited by provider (429)",
    )
    html = owner_client.post(refresh_url(project), **HTMX).content.decode()
    assert "<html" not in html
    row = row_html(html, integration)
    assert badge(row) == "Error"
    assert "Rate limited by provider (429)" in row
    # After a refresh the list does not ask for another one on load.
    assert 'hx-trigger="qonadmin:poll from:body, qonadmin:reconcile from:body"' in html


@pytest.mark.django_db
def test_refresh_marks_integrations_gone_upstream_as_deleted(project: Project, owner, owner_client, sandbox):
    kept = make(project, owner, "Kept")
    gone = make(project, owner, "Gone")
    # Another tool deletes one upstream and creates another.
    client_for_project(project).delete_integration(gone.qonversion_id)
    sandbox.create_external(key=SANDBOX_KEY, title="New", integration="slack", target_platform="iOS")
    html = owner_client.post(refresh_url(project), **HTMX).content.decode()
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert gone.deleted_at is not None
    assert kept.deleted_at is None
    assert sorted(Integration.objects.filter(deleted_at__isnull=True).values_list("title", flat=True)) == [
        "Kept",
        "New",
    ]
    assert "Gone" not in html
    assert "New" in html


@pytest.mark.django_db
def test_a_failed_refresh_keeps_the_last_known_list(project: Project, owner, owner_client: Client, sandbox):
    integration = make(project, owner, "Still here")
    project_sync(project=project)
    sandbox.add_fault(method="GET", path_prefix="/v4/integrations", status=503, times=3)
    html = owner_client.post(refresh_url(project), **HTMX).content.decode()
    assert "Still here" in row_html(html, integration)
    assert "Could not refresh from Qonversion" in html
    assert "Qonversion had an internal error (503)" in html
    assert "Showing data from" in html


@pytest.mark.django_db
def test_refresh_without_javascript_redirects_with_a_message(project: Project, owner_client: Client, sandbox):
    response = owner_client.post(refresh_url(project), follow=True)
    assert response.redirect_chain[-1][0] == page_url(project)
    assert "Refreshed from Qonversion." in response.content.decode()


@pytest.mark.django_db
def test_the_key_is_shown_masked_only(project: Project, owner_client: Client):
    html = owner_client.get(page_url(project)).content.decode()
    assert "test_sk_…_key" in html
    assert SANDBOX_KEY not in html


def seed_rows(project: Project, count: int) -> None:
    now = timezone.now()
    Integration.objects.bulk_create(
        Integration(
            project=project,
            qonversion_id=f"id{n}",
            title=f"Integration {n}",
            provider_name="Slack",
            platform="iOS",
            status=list(Status)[n % 3],
            delivery_error_count=n % 7,
            last_error_message="boom" if n % 3 == 2 else "",
            last_error_at=now if n % 3 == 2 else None,
            upstream_created_at=now,
            upstream_updated_at=now,
        )
        for n in range(count)
    )
    Project.objects.filter(pk=project.pk).update(synced_at=now)


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?status=error&platform=iOS&q=Integ", "?status=deleted"])
def test_the_page_query_count_does_not_grow_with_integrations(project: Project, owner_client: Client, query: str):
    counts = {}
    # 3: one row of each status, so every filter shows at least one row.
    for total in (3, 200):
        Integration.objects.all().delete()
        seed_rows(project, total)
        if "deleted" in query:
            Integration.objects.update(deleted_at=timezone.now(), deleted_by=project.team.members.first())
        with CaptureQueriesContext(connection) as queries:
            response = owner_client.get(page_url(project) + query)
        assert response.status_code == 200
        counts[total] = len(queries)
    assert counts[3] == counts[200], counts
    assert counts[200] <= 12, counts


@pytest.mark.django_db
def test_row_actions_and_refresh_have_a_flat_query_count(project: Project, owner, owner_client: Client, sandbox):
    counts = {}
    for total in (1, 50):
        Integration.objects.all().delete()
        sandbox.reset()
        for n in range(total):
            sandbox.create_external(key=SANDBOX_KEY, title=f"I{n}", integration="slack", target_platform="iOS")
        project_sync(project=project)
        target = Integration.objects.first()
        with CaptureQueriesContext(connection) as refresh_queries:
            owner_client.post(refresh_url(project), **HTMX)
        with CaptureQueriesContext(connection) as action_queries:
            owner_client.post(
                reverse("integration_status", kwargs={"project_id": project.pk, "integration_id": target.pk}),
                {"status": "active"},
                **HTMX,
            )
        counts[total] = (len(refresh_queries), len(action_queries))
    assert counts[1] == counts[50], counts


@pytest.mark.django_db
def test_the_team_page_query_count_does_not_grow_with_integrations(project: Project, owner_client: Client):
    counts = {}
    for total in (1, 200):
        Integration.objects.all().delete()
        seed_rows(project, total)
        with CaptureQueriesContext(connection) as queries:
            owner_client.get(reverse("team_detail", kwargs={"team_slug": project.team.slug}))
        counts[total] = len(queries)
    assert counts[1] == counts[200]


def seed_history(project: Project) -> None:
    """Every integration with a health history: a change before the last 24 h, a break
    into Error and later errors inside them."""
    now = timezone.now()
    IntegrationChange.objects.bulk_create(
        IntegrationChange(
            integration=integration,
            at=at,
            status=status,
            previous_status=before,
            delivery_error_count=n,
            errors_added=added,
        )
        for integration in Integration.objects.filter(project=project)
        for at, before, status, n, added in (
            (now - timedelta(days=2), "", Status.ACTIVE, 0, 0),
            (now - timedelta(hours=5), Status.ACTIVE, Status.ERROR, 5, 5),
            (now - timedelta(hours=1), Status.ERROR, Status.ERROR, 9, 4),
        )
    )


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?status=error&platform=iOS&q=Integ", "?status=deleted"])
def test_the_page_query_count_stays_flat_with_history(project: Project, owner_client: Client, query: str):
    counts = {}
    for total in (3, 200):  # 3: one row of each status
        Integration.objects.all().delete()
        seed_rows(project, total)
        seed_history(project)
        if "deleted" in query:
            Integration.objects.update(deleted_at=timezone.now(), deleted_by=project.team.members.first())
        with CaptureQueriesContext(connection) as queries:
            response = owner_client.get(page_url(project) + query)
        assert response.status_code == 200
        counts[total] = len(queries)
    html = response.content.decode()
    assert html.count('<svg class="sparkline" role="img"') == html.count('<tr id="integration-') > 0
    if "deleted" not in query:
        assert html.count("in Error since") == Integration.objects.filter(status=Status.ERROR).count() > 0
    assert counts[3] == counts[200], counts
    assert counts[200] <= 12, counts


@pytest.mark.django_db
def test_the_team_page_query_count_stays_flat_with_history(project: Project, owner_client: Client):
    counts = {}
    for total in (1, 200):
        Integration.objects.all().delete()
        seed_rows(project, total)
        seed_history(project)
        with CaptureQueriesContext(connection) as queries:
            html = owner_client.get(reverse("team_detail", kwargs={"team_slug": project.team.slug})).content.decode()
        counts[total] = len(queries)
    in_error = Integration.objects.filter(status=Status.ERROR).count()
    assert html.count("in error since") == min(50, in_error) > 0  # the 50 most recent, the rest counted
    assert f"and {in_error - 50} more in error" in html
    assert counts[1] == counts[200], counts
