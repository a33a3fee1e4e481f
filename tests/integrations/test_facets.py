"""The whole page's chips and provider filter from one grouped query give what the
list's own count gives, under every filter it can answer."""

import itertools

import pytest
from django.utils import timezone

from integrations.filters import IntegrationFilters
from integrations.models import Integration, Status
from integrations.selectors import project_facets, status_counts
from teams.models import Project


def seed_mixed(project: Project) -> None:
    now = timezone.now()
    providers = ("Amplitude", "AppsFlyer", "Slack", "Webhooks", "amplitude")
    Integration.objects.bulk_create(
        Integration(
            project=project,
            qonversion_id=f"m{n}",
            title=f"Mixed {n}",
            provider_name=providers[n % 5],
            platform=("iOS", "Android", "Stripe")[n % 3],
            status=list(Status)[n % 3],
            deleted_at=now if n % 7 == 0 else None,
            upstream_created_at=now,
            upstream_updated_at=now,
        )
        for n in range(120)
    )


@pytest.mark.django_db
def test_facet_counts_equal_the_lists_count_under_every_filter(project: Project):
    seed_mixed(project)
    facets = project_facets(project)
    checked = 0
    for status, platform, provider in itertools.product(
        ("all", "error", "deleted"), ("", "iOS", "Stripe"), ("", "Slack", "amplitude", "Nobody")
    ):
        filters = IntegrationFilters(status=status, platform=platform, provider=provider)
        assert facets.counts(filters) == status_counts(project, filters), filters
        checked += 1
    assert checked == 36
    assert facets.counts(IntegrationFilters()) == {"all": 102, "error": 34, "active": 34, "paused": 34, "deleted": 18}


@pytest.mark.django_db
def test_providers_include_deleted_rows_and_a_title_search_is_left_to_the_list(project: Project):
    seed_mixed(project)
    Integration.objects.filter(provider_name="Webhooks").update(deleted_at=timezone.now())
    facets = project_facets(project)
    assert facets.providers == ["Amplitude", "AppsFlyer", "Slack", "Webhooks", "amplitude"]
    assert facets.counts(IntegrationFilters(q="Mixed 1")) is None


@pytest.mark.django_db
def test_the_whole_page_counts_with_its_facets_and_searches_with_the_list(project: Project, owner_client):
    seed_mixed(project)
    page = owner_client.get(f"/projects/{project.pk}/").content.decode()
    assert 'data-count="all">102<' in page
    searched = owner_client.get(f"/projects/{project.pk}/?q=Mixed%201").content.decode()
    # "Mixed 1", "Mixed 10" … "Mixed 119": 31 titles, 4 of them deleted (n % 7 == 0).
    assert 'data-count="all">27<' in searched
    assert 'data-count="deleted">4<' in searched
