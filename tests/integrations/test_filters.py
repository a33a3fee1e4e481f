"""Filters and search on the project page, all in the URL."""

import re

import pytest
from django.test import Client

from teams.models import Project
from tests.conftest import HTMX
from tests.factories import make_integration


def titles(html: str) -> list[str]:
    return re.findall(
        r'data-details-toggle="details-\d+"\s+aria-expanded="false" aria-controls="details-\d+">([^<]+)</a>', html
    )


@pytest.fixture
def spread(project: Project, owner):
    make_integration(project, owner, "Amplitude iOS", provider="amplitude", platform="iOS", active=True)
    make_integration(project, owner, "Amplitude Android", provider="amplitude", platform="Android")
    make_integration(project, owner, "Slack alerts", provider="slack", platform="iOS", active=True)
    make_integration(project, owner, "Webhook Stripe", provider="webhooks", platform="Stripe")
    return project


def page(client: Client, project: Project, query: str = "", **extra: str) -> str:
    return client.get(f"/projects/{project.pk}/{query}", **extra).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Amplitude iOS", "Slack alerts", "Amplitude Android", "Webhook Stripe"]),
        ("?status=active", ["Amplitude iOS", "Slack alerts"]),
        ("?status=paused", ["Amplitude Android", "Webhook Stripe"]),
        ("?platform=iOS", ["Amplitude iOS", "Slack alerts"]),
        ("?provider=Amplitude", ["Amplitude iOS", "Amplitude Android"]),
        ("?q=ampli", ["Amplitude iOS", "Amplitude Android"]),
        ("?status=paused&provider=Amplitude&q=android", ["Amplitude Android"]),
        ("?status=error", []),
        ("?status=bogus&platform=Windows", ["Amplitude iOS", "Slack alerts", "Amplitude Android", "Webhook Stripe"]),
    ],
)
def test_it_filters_by_the_url(spread: Project, owner_client: Client, query: str, expected: list[str]):
    assert titles(page(owner_client, spread, query)) == expected


@pytest.mark.django_db
def test_the_chips_count_under_the_other_filters(spread: Project, owner_client: Client):
    html = page(owner_client, spread, "?platform=iOS")
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', html))
    assert counts == {"all": "2", "error": "0", "active": "2", "paused": "0", "deleted": "0"}
    assert 'value="iOS" selected' in html
    assert 'id="status-paused"' in html  # stable ids: the keyboard focus survives the swap


@pytest.mark.django_db
def test_a_filter_change_with_htmx_returns_the_list_and_chips(spread: Project, owner_client: Client):
    html = page(owner_client, spread, "?status=paused", **HTMX)
    assert html.lstrip().startswith('<section id="integration-list"')
    assert 'id="status-chips" class="chips" hx-swap-oob="true"' in html
    assert titles(html) == ["Amplitude Android", "Webhook Stripe"]
    # The list's own refresh keeps the filters.
    assert f'hx-post="/projects/{spread.pk}/refresh/?status=paused"' in html


@pytest.mark.django_db
def test_a_history_restore_gets_the_whole_page(spread: Project, owner_client: Client):
    html = page(owner_client, spread, "?status=paused", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in html


@pytest.mark.django_db
def test_a_search_that_matches_nothing_says_so(spread: Project, owner_client: Client):
    html = page(owner_client, spread, "?q=nothing-like-this")
    assert "No integrations match these filters." in html


@pytest.mark.django_db
def test_the_search_is_escaped(spread: Project, owner_client: Client):
    html = page(owner_client, spread, '?q="><script>x</script>')
    assert "<script>x</script>" not in html
