"""The project page at any size: 100 rows a page, page links that keep the filters, and
bulk actions on every matching integration."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.models import BulkJob, Integration, Status
from teams.models import Project
from tests.conftest import HTMX
from tests.integrations.test_project_page import seed_history, seed_rows


@pytest.fixture
def other_project(project: Project) -> Project:
    other = Project(team=project.team, name="Acme Android")
    other.set_secret_key("test_sk_other_project_key")
    other.save()
    return other


def page_url(project: Project) -> str:
    return reverse("project_detail", kwargs={"project_id": project.pk})


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="integration-(\d+)"', html)]


def chip_count(html: str, value: str) -> int:
    match = re.search(rf'data-count="{value}">(\d+)<', html)
    assert match is not None
    return int(match.group(1))


@pytest.mark.django_db
def test_the_list_shows_100_rows_a_page_with_links_that_keep_the_filters(project: Project, owner_client: Client):
    seed_rows(project, 250)
    html = owner_client.get(page_url(project) + "?platform=iOS&q=Integ").content.decode()
    assert len(row_ids(html)) == 100
    assert "Showing 1–100 of 250 · Page 1 of 3" in html
    assert f'href="{page_url(project)}?platform=iOS&amp;q=Integ&amp;page=2"' in html
    assert 'hx-push-url="true">Next →' in html
    assert "select all 250 matching".lower() in html.lower()

    second = owner_client.get(page_url(project) + "?platform=iOS&q=Integ&page=2").content.decode()
    assert "Showing 101–200 of 250 · Page 2 of 3" in second
    assert f'href="{page_url(project)}?platform=iOS&amp;q=Integ"' in second  # previous: page 1, left out
    assert not set(row_ids(html)) & set(row_ids(second))

    last = owner_client.get(page_url(project) + "?platform=iOS&q=Integ&page=3").content.decode()
    assert len(row_ids(last)) == 50
    assert 'aria-disabled="true">Next →' in last
    every = set(row_ids(html)) | set(row_ids(second)) | set(row_ids(last))
    assert every == set(Integration.objects.values_list("pk", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("garbage", ["abc", "0", "-2", "²", "٢", "1.5", " 2", "2\x00", ""])
def test_a_garbage_page_number_shows_page_1(project: Project, owner_client: Client, garbage: str):
    seed_rows(project, 150)
    html = owner_client.get(page_url(project), {"page": garbage}).content.decode()
    assert "Page 1 of 2" in html


@pytest.mark.django_db
def test_a_page_past_the_last_shows_the_last(project: Project, owner_client: Client):
    seed_rows(project, 150)
    for far in ("40", "9" * 30, "9" * 5000):
        html = owner_client.get(page_url(project), {"page": far}).content.decode()
        assert "Showing 101–150 of 150 · Page 2 of 2" in html
        assert len(row_ids(html)) == 50


@pytest.mark.django_db
def test_the_page_follows_the_filtered_count_and_the_chips_count_every_page(project: Project, owner_client: Client):
    seed_rows(project, 300)  # statuses in turn: 100 of each
    html = owner_client.get(page_url(project) + "?status=error").content.decode()
    assert (chip_count(html, "all"), chip_count(html, "error"), chip_count(html, "active")) == (300, 100, 100)
    assert len(row_ids(html)) == 100
    assert "Page 1 of" not in html  # one page: no pager
    assert set(Integration.objects.filter(pk__in=row_ids(html)).values_list("status", flat=True)) == {Status.ERROR}


@pytest.mark.django_db
def test_a_small_list_has_no_pager_and_no_select_all_matching(project: Project, owner_client: Client):
    seed_rows(project, 20)
    html = owner_client.get(page_url(project)).content.decode()
    assert len(row_ids(html)) == 20
    assert 'class="pager"' not in html
    assert "data-select-matching" not in html


@pytest.mark.django_db
def test_a_page_link_with_htmx_answers_the_list_only(project: Project, owner_client: Client):
    seed_rows(project, 150)
    html = owner_client.get(page_url(project) + "?page=2", **HTMX).content.decode()
    assert "<html" not in html
    assert "Page 2 of 2" in html
    assert 'id="status-chips"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?page=5", "?status=error&platform=iOS&q=Integ&page=2"])
def test_the_page_query_count_is_flat_from_1_to_1000_integrations(project: Project, owner_client: Client, query: str):
    counts = {}
    for total in (3, 1000):
        Integration.objects.all().delete()
        seed_rows(project, total)
        seed_history(project)
        with CaptureQueriesContext(connection) as queries:
            response = owner_client.get(page_url(project) + query)
        assert response.status_code == 200
        counts[total] = len(queries)
    assert len(row_ids(response.content.decode())) > 0
    assert counts[3] == counts[1000], counts
    assert counts[1000] <= 12, counts


def bulk(client: Client, project: Project, **data: object):
    return client.post(reverse("integration_bulk", kwargs={"project_id": project.pk}), data, **HTMX)


@pytest.mark.django_db
def test_select_all_matching_previews_every_matching_row_of_this_project_only(
    project: Project, other_project: Project, owner_client: Client
):
    seed_rows(project, 240)  # 80 active
    seed_rows(other_project, 30)
    html = bulk(owner_client, project, action="pause", scope="matching", match="status=active&page=2").content.decode()
    ids = {int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', html)}
    active_here = set(Integration.objects.filter(project=project, status=Status.ACTIVE).values_list("pk", flat=True))
    assert ids == active_here
    assert len(ids) == 80
    assert "Pause 80 selected integrations?" in html


@pytest.mark.django_db
def test_select_all_matching_applies_to_every_matching_row(
    project: Project, other_project: Project, owner_client: Client, settings
):
    seed_rows(project, 240)
    seed_rows(other_project, 30)
    preview = bulk(owner_client, project, action="pause", scope="matching", match="status=active").content.decode()
    ids = re.findall(r'name="ids" value="(\d+)"', preview)
    bulk(owner_client, project, action="pause", confirm="yes", ids=ids)
    job = BulkJob.objects.get()
    active_here = Integration.objects.filter(project=project, status=Status.ACTIVE)
    assert sorted(job.integration_ids) == sorted(active_here.values_list("pk", flat=True))
    assert len(job.integration_ids) == 80


@pytest.mark.django_db
def test_select_all_matching_is_capped_at_500_and_says_so(project: Project, owner_client: Client):
    seed_rows(project, 620)
    html = bulk(owner_client, project, action="pause", scope="matching", match="").content.decode()
    assert len(re.findall(r'name="ids" value="(\d+)"', html)) == 500
    assert "620 integrations match these filters, but one bulk action covers at most 500" in html


@pytest.mark.django_db
def test_without_select_all_matching_only_the_ticked_rows_count(project: Project, owner_client: Client):
    seed_rows(project, 150)
    first = list(Integration.objects.order_by("pk").values_list("pk", flat=True)[:3])
    html = bulk(owner_client, project, action="delete", ids=first, match="").content.decode()
    assert sorted(int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', html)) == first


@pytest.mark.django_db
def test_deleted_rows_page_too(project: Project, owner_client: Client):
    seed_rows(project, 130)
    Integration.objects.update(deleted_at=timezone.now())
    html = owner_client.get(page_url(project) + "?status=deleted&page=2").content.decode()
    assert "Showing 101–130 of 130 · Page 2 of 2" in html
    assert len(row_ids(html)) == 30
