"""Health over time: the change history the sync records, what the pages derive from it
(in Error since, sparklines, the timeline), its pruning, and stale projects."""

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations import history
from integrations.history import (
    LAST_7_DAYS,
    LAST_24_HOURS,
    ErrorSeries,
    Window,
    error_series_for,
    error_since_for,
    prune_history,
)
from integrations.mirror import errors_added
from integrations.models import Integration, IntegrationChange, Status
from integrations.sync import project_sync
from sandbox import ManualClock, SandboxConfig
from sandbox.control_client import SandboxControl
from sandbox.server import running_sandbox
from teams.models import Project
from tests.conftest import HTMX, SANDBOX_KEY
from tests.factories import make_integration

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def page_url(project: Project) -> str:
    return reverse("project_detail", kwargs={"project_id": project.pk})


def refresh_url(project: Project) -> str:
    return reverse("project_refresh", kwargs={"project_id": project.pk})


def team_url(project: Project) -> str:
    return reverse("team_detail", kwargs={"team_slug": project.team.slug})


def details_url(integration: Integration) -> str:
    return reverse(
        "integration_detail", kwargs={"project_id": integration.project_id, "integration_id": integration.pk}
    )


def row_html(html: str, integration: Integration) -> str:
    match = re.search(rf'<tr id="integration-{integration.pk}".*?</tr>', html, re.S)
    assert match is not None, f"no row for {integration}"
    return match.group(0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bare(project: Project, title: str = "Webhook", status: str = Status.ACTIVE) -> Integration:
    """A mirror row without upstream: for histories built by hand."""
    return Integration.objects.create(
        project=project,
        qonversion_id=f"id-{title}",
        title=title,
        provider_name="Webhooks",
        platform="iOS",
        status=status,
        upstream_created_at=NOW,
        upstream_updated_at=NOW,
    )


def change(
    integration: Integration, at: datetime, count: int, status: str = "", previous: str | None = None, **kw: object
) -> None:
    """One history row; by default a change of the count only (status as before). Its
    errors are worked out from the row before it, as the sync does (previous="": a first
    sighting)."""
    status = status or integration.status
    before = IntegrationChange.objects.filter(integration=integration, at__lt=at).order_by("-at", "-pk").first()
    IntegrationChange.objects.create(
        integration=integration,
        at=at,
        status=status,
        previous_status=status if previous is None else previous,
        delivery_error_count=count,
        errors_added=errors_added(None if before is None or previous == "" else before.delivery_error_count, count),
        **kw,
    )


@pytest.fixture
def lagging_sandbox(project: Project, settings) -> Iterator[SandboxControl]:
    """A sandbox whose clock is six hours behind: every timestamp Qonversion sends
    (last_error_at, updated_at) is six hours older than when qonadmin sees the change."""
    clock = ManualClock(time.time() - 6 * 3600)
    with running_sandbox(SandboxConfig(seed=7, clock=clock)) as root:
        settings.QONVERSION_API_BASE = f"{root}/v4"
        cache.clear()
        yield SandboxControl(f"{root}/v4")


# ---- what is recorded ----------------------------------------------------------------


@pytest.mark.django_db
def test_it_records_one_row_per_change_not_per_sync(project: Project, owner, sandbox: SandboxControl):
    integration = make_integration(project, owner, "Amplitude prod", provider="amplitude", active=True)
    project_sync(project=project)
    recorded = IntegrationChange.objects.filter(integration=integration).count()
    for _ in range(3):
        project_sync(project=project)  # nothing changed upstream
    assert IntegrationChange.objects.filter(integration=integration).count() == recorded

    sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5)
    project_sync(project=project)
    project_sync(project=project)
    latest = IntegrationChange.objects.filter(integration=integration).order_by("at", "pk")
    assert latest.count() == recorded + 1
    assert (latest.last().previous_status, latest.last().status) == (Status.ACTIVE, Status.ERROR)


# ---- in Error since ------------------------------------------------------------------


@pytest.mark.django_db
def test_in_error_since_is_when_the_refresh_saw_the_change_not_what_qonversion_sent(
    project: Project, owner, owner_client: Client, lagging_sandbox: SandboxControl
):
    integration = make_integration(project, owner, "Legacy webhook", provider="webhooks", active=True)
    lagging_sandbox.deliveries(
        key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5, message="401 <b>bad</b>"
    )
    html = owner_client.post(refresh_url(project), **HTMX).content.decode()

    entered = IntegrationChange.objects.get(integration=integration, status=Status.ERROR)
    integration.refresh_from_db()
    assert integration.last_error_at is not None
    assert entered.at - integration.last_error_at > timedelta(hours=5)  # Qonversion's clock says otherwise
    since = re.search(r'<small class="error-since">(.*?)</small>', row_html(html, integration), re.S)
    assert since is not None
    assert "in Error since" in since.group(1)
    assert f'datetime="{iso(entered.at)}"' in since.group(1)
    assert iso(integration.last_error_at) not in since.group(1)

    # More failures later are not a new transition: the time stays.
    lagging_sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=2)
    project_sync(project=project)
    assert IntegrationChange.objects.filter(integration=integration).count() > 2
    assert error_since_for([integration]) == {integration.pk: entered.at}

    # The team overview says the same.
    team = owner_client.get(team_url(project)).content.decode()
    listed = re.search(r'class="error-list">.*?</ul>', team, re.S)
    assert listed is not None
    assert "in error since" in listed.group(0)
    assert f'datetime="{iso(entered.at)}"' in listed.group(0)


@pytest.mark.django_db
def test_without_the_transition_in_history_it_says_in_error_without_a_time(project: Project, owner_client: Client):
    integration = bare(project, status=Status.ERROR)
    Integration.objects.filter(pk=integration.pk).update(last_error_at=timezone.now(), last_error_message="down")
    # First seen already in Error: qonadmin did not watch it break.
    change(integration, timezone.now(), 5, status=Status.ERROR, previous="")
    Project.objects.filter(pk=project.pk).update(synced_at=timezone.now())

    row = row_html(owner_client.get(page_url(project)).content.decode(), integration)
    since = re.search(r'<small class="error-since">(.*?)</small>', row, re.S)
    assert since is not None
    assert since.group(1).strip() == "in Error"
    team = owner_client.get(team_url(project)).content.decode()
    assert re.search(r"Acme iOS · in error</span>", team)


@pytest.mark.django_db
def test_error_since_takes_the_latest_break(project: Project):
    integration = bare(project, status=Status.ERROR)
    change(integration, NOW - timedelta(days=3), 0, status=Status.ACTIVE, previous=Status.PAUSED)
    change(integration, NOW - timedelta(days=2), 5, status=Status.ERROR, previous=Status.ACTIVE)
    change(integration, NOW - timedelta(days=1), 0, status=Status.ACTIVE, previous=Status.ERROR)
    change(integration, NOW - timedelta(hours=2), 5, status=Status.ERROR, previous=Status.ACTIVE)
    change(integration, NOW - timedelta(hours=1), 9, status=Status.ERROR, previous=Status.ERROR)
    healthy = bare(project, "Healthy")
    change(healthy, NOW - timedelta(hours=2), 5, status=Status.ERROR, previous=Status.ACTIVE)
    change(healthy, NOW - timedelta(hours=1), 0, status=Status.ACTIVE, previous=Status.ERROR)
    assert error_since_for([integration, healthy]) == {
        integration.pk: NOW - timedelta(hours=2),
        healthy.pk: None,  # not in Error now
    }


# ---- delivery errors per bucket ------------------------------------------------------


@pytest.mark.django_db
def test_errors_per_bucket_count_increases_and_restart_after_a_reset(project: Project, django_assert_num_queries):
    integration = bare(project)
    change(integration, NOW - timedelta(days=8), 0)  # where counting starts for 7 d
    change(integration, NOW - timedelta(days=3), 2)  # +2, three days ago
    change(integration, NOW - timedelta(hours=30), 2, status=Status.PAUSED, previous=Status.ACTIVE)  # +0
    change(integration, NOW - timedelta(hours=20, minutes=30), 5)  # +3 in hour 3 of the last 24
    change(integration, NOW - timedelta(hours=10, minutes=30), 1)  # reset, then 1 failure: +1 in hour 13
    change(integration, NOW - timedelta(hours=10, minutes=10), 4)  # +3 in hour 13
    change(integration, NOW - timedelta(minutes=30), 0)  # a success: reset to 0, +0
    change(integration, NOW, 2)  # +2 in the last hour (the bucket ends now)
    first_seen = bare(project, "First seen")
    change(first_seen, NOW - timedelta(hours=5), 9, previous="")  # those 9 happened at an unknown time
    change(first_seen, NOW - timedelta(hours=4), 11)  # +2
    quiet = bare(project, "Quiet")

    with django_assert_num_queries(1):
        series = error_series_for([integration.pk, first_seen.pk, quiet.pk], (LAST_24_HOURS, LAST_7_DAYS), now=NOW)

    day, week = series[integration.pk]
    expected = [0] * 24
    expected[3], expected[13], expected[23] = 3, 4, 2
    assert day == ErrorSeries(LAST_24_HOURS, tuple(expected))
    assert (day.total, day.peak) == (9, 4)
    assert day.summary == "Delivery errors, last 24 h: 9 in total, most 4 in one hour"
    assert week.counts == (0, 0, 0, 0, 2, 0, 9)
    assert week.summary == "Delivery errors, last 7 d: 11 in total, most 9 in one day"

    first_day, _ = series[first_seen.pk]
    assert first_day.total == 2
    assert first_day.counts[20] == 2
    quiet_day, quiet_week = series[quiet.pk]
    assert quiet_day.counts == (0,) * 24
    assert quiet_day.summary == "Delivery errors, last 24 h: none"
    assert quiet_week.counts == (0,) * 7


@pytest.mark.django_db
def test_the_count_before_the_window_is_where_counting_starts(project: Project):
    integration = bare(project)
    change(integration, NOW - timedelta(hours=26), 7)
    change(integration, NOW - timedelta(hours=2, minutes=30), 10)  # +3
    ((day,),) = error_series_for([integration.pk], now=NOW).values()
    assert day.total == 3
    assert day.counts[21] == 3


# ---- the sparkline -------------------------------------------------------------------


def render(source: str, **context: object) -> str:
    return Template("{% load integrations %}" + source).render(Context(context))


def test_the_sparkline_is_labelled_svg_with_its_numbers_in_text():
    counts = [0] * 24
    counts[20], counts[22] = 5, 7
    html = render("{% sparkline series %}", series=ErrorSeries(LAST_24_HOURS, tuple(counts)))
    svg = re.search(r"<svg[^>]*>", html)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    assert 'aria-label="Delivery errors, last 24 h: 12 in total, most 7 in one hour"' in svg.group(0)
    assert "<title>Delivery errors, last 24 h: 12 in total, most 7 in one hour</title>" in html
    assert "<desc>Per hour, oldest first: 0, 0, " in html
    # One baseline across the chart and one bar per hour with errors.
    assert len(re.findall(r"<rect ", html)) == 3
    assert len(re.findall(r'<rect class="spark-bar"', html)) == 2
    assert "style=" not in html  # the CSP allows no inline style
    assert re.search(r'<span class="spark-total" aria-hidden="true">12 in 24 h</span>', html)
    # The tallest bar fills the chart; a smaller one is shorter.
    heights = [int(h) for h in re.findall(r'class="spark-bar" x="[\d.]+" y="\d+" width="[\d.]+" height="(\d+)"', html)]
    assert heights[1] > heights[0]


def test_a_quiet_sparkline_is_its_baseline_alone():
    html = render("{% sparkline series %}", series=ErrorSeries(LAST_24_HOURS, (0,) * 24))
    assert 'aria-label="Delivery errors, last 24 h: none"' in html
    assert re.findall(r"<rect [^>]*>", html) == ['<rect class="spark-zero" x="0" y="19" width="96" height="1"/>']
    assert "<desc>" not in html  # 24 zeros say nothing the label does not
    assert ">0 in 24 h</span>" in html


def test_the_sparkline_escapes_what_it_draws():
    window = Window('<script>"x"</script>', 2, timedelta(hours=1), "<b>hour</b>")
    html = render("{% sparkline series %}", series=ErrorSeries(window, (1, 3)))
    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;&quot;x&quot;&lt;/script&gt;" in html


def test_without_a_series_the_sparkline_draws_nothing():
    assert render("{% sparkline missing %}").strip() == ""


@pytest.mark.django_db
def test_each_row_shows_its_errors_of_the_last_24_hours(
    project: Project, owner, owner_client: Client, sandbox: SandboxControl
):
    broken = make_integration(project, owner, "Legacy webhook", provider="webhooks", active=True)
    fine = make_integration(project, owner, "Amplitude prod", provider="amplitude", active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=broken.qonversion_id, outcome="failure", count=5)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=fine.qonversion_id, outcome="success", count=3)
    html = owner_client.post(refresh_url(project), **HTMX).content.decode()

    broken_row = row_html(html, broken)
    assert 'aria-label="Delivery errors, last 24 h: 5 in total, most 5 in one hour"' in broken_row
    assert ">5 in 24 h</span>" in broken_row
    fine_row = row_html(html, fine)
    assert 'aria-label="Delivery errors, last 24 h: none"' in fine_row
    assert ">0 in 24 h</span>" in fine_row
    assert '<th scope="col">Delivery errors</th>' in html


# ---- the timeline --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_details_show_the_timeline_newest_first_and_both_sparklines(project: Project, owner_client: Client):
    now = timezone.now()
    integration = bare(project)
    change(integration, now - timedelta(days=2), 0, status=Status.PAUSED, previous="")
    change(integration, now - timedelta(hours=3), 0, status=Status.ACTIVE, previous=Status.PAUSED)
    change(
        integration,
        now - timedelta(hours=2),
        5,
        status=Status.ERROR,
        previous=Status.ACTIVE,
        last_error_message="401 from endpoint: <b>bad key</b>",
    )
    change(integration, now - timedelta(hours=1), 8, status=Status.ERROR, previous=Status.ERROR)  # not a transition
    change(integration, now - timedelta(minutes=30), 0, status=Status.ACTIVE, previous=Status.ERROR)

    html = owner_client.get(details_url(integration), **HTMX).content.decode()
    timeline = re.search(r'<ol class="timeline-list">(.*?)</ol>', html, re.S)
    assert timeline is not None
    items = re.findall(r'<li data-status="(\w+)">\s*(.*?)<span class="badge', timeline.group(1), re.S)
    assert [(status, lead.strip()) for status, lead in items] == [
        ("active", "Error →"),
        ("error", "Active →"),
        ("active", "Paused →"),
        ("paused", "First seen as"),
    ]
    assert "401 from endpoint: &lt;b&gt;bad key&lt;/b&gt;" in timeline.group(1)
    assert 'aria-label="Delivery errors, last 24 h: 8 in total, most 5 in one hour"' in html
    assert 'aria-label="Delivery errors, last 7 d: 8 in total, most 8 in one day"' in html


@pytest.mark.django_db
def test_the_details_page_without_javascript_has_the_timeline_too(project: Project, owner_client: Client):
    integration = bare(project)
    change(integration, timezone.now() - timedelta(hours=1), 0, status=Status.ACTIVE, previous=Status.PAUSED)
    html = owner_client.get(details_url(integration)).content.decode()
    assert "<html" in html
    assert "Timeline" in html
    assert "Paused →" in html


# ---- pruning -------------------------------------------------------------------------


@pytest.mark.django_db
def test_prune_removes_only_rows_older_than_the_kept_days(project: Project, settings, monkeypatch):
    settings.QONADMIN_HISTORY_DAYS = 30
    monkeypatch.setattr(history, "PRUNE_BATCH_SIZE", 2)  # several batches
    integration = bare(project)
    old = [NOW - timedelta(days=30, seconds=1), NOW - timedelta(days=31), NOW - timedelta(days=90)]
    kept = [NOW - timedelta(days=29, hours=23), NOW - timedelta(hours=1), NOW]
    for at in old + kept:
        change(integration, at, 0)
    other = bare(project, "Other")
    for days in (40, 50):
        change(other, NOW - timedelta(days=days), 0)

    assert prune_history(now=NOW) == 5
    assert sorted(IntegrationChange.objects.values_list("at", flat=True)) == sorted(kept)
    assert prune_history(now=NOW) == 0


@pytest.mark.django_db
def test_prune_follows_the_setting(project: Project, settings):
    settings.QONADMIN_HISTORY_DAYS = 7
    integration = bare(project)
    change(integration, NOW - timedelta(days=8), 0)
    change(integration, NOW - timedelta(days=6), 0)
    assert prune_history(now=NOW) == 1
    assert IntegrationChange.objects.get().at == NOW - timedelta(days=6)


# ---- stale projects ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_project_not_refreshed_for_three_intervals_is_marked_stale_with_the_reason(
    project: Project, owner, owner_client: Client, sandbox: SandboxControl, settings
):
    settings.QONADMIN_SYNC_INTERVAL_SECONDS = 60
    make_integration(project, owner, "Amplitude prod", provider="amplitude")
    project_sync(project=project)
    sandbox.add_fault(method="GET", path_prefix="/v4/integrations", status=401, times=0)
    owner_client.post(refresh_url(project), **HTMX)  # Qonversion refuses the key
    now = timezone.now()

    Project.objects.filter(pk=project.pk).update(synced_at=now - timedelta(seconds=170))
    html = owner_client.get(page_url(project)).content.decode()
    assert "Stale" not in html
    assert "Could not refresh from Qonversion" in html
    assert "Stale" not in owner_client.get(team_url(project)).content.decode()

    Project.objects.filter(pk=project.pk).update(synced_at=now - timedelta(seconds=250))
    html = owner_client.get(page_url(project)).content.decode()
    banner = re.search(r'<p class="banner banner-warning stale-note" role="alert">(.*?)</p>', html, re.S)
    assert banner is not None
    text = " ".join(unescape(re.sub(r"<[^>]+>", "", banner.group(1))).split())
    assert "Stale: not refreshed since" in text
    assert "4 sync intervals" in text
    assert re.search(r"Last attempt \((now|\d+ seconds? ago)\): Qonversion rejected this project's key \(401\)\.", text)
    team = owner_client.get(team_url(project)).content.decode()
    note = re.search(r'<p class="stale-note" role="status">(.*?)</p>', team, re.S)
    assert note is not None
    assert "not refreshed for 4 sync intervals — Qonversion rejected this project&#x27;s key (401)" in note.group(1)


@pytest.mark.django_db
def test_a_project_never_refreshed_is_stale_only_once_intervals_have_passed_since_it_was_added(
    project: Project, owner_client: Client, settings
):
    settings.QONADMIN_SYNC_INTERVAL_SECONDS = 60
    assert "Stale" not in owner_client.get(page_url(project)).content.decode()
    Project.objects.filter(pk=project.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    html = owner_client.get(page_url(project)).content.decode()
    assert "never refreshed from Qonversion" in html


# ---- query budget --------------------------------------------------------------------


@pytest.mark.django_db
def test_details_cost_a_fixed_number_of_queries(project: Project, owner_client: Client):
    counts = {}
    integration = bare(project)
    for total in (1, 100):
        IntegrationChange.objects.all().delete()
        for n in range(total):
            change(integration, timezone.now() - timedelta(minutes=n * 50), n % 4)
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(details_url(integration), **HTMX).status_code == 200
        counts[total] = len(queries)
    assert counts[1] == counts[100], counts
