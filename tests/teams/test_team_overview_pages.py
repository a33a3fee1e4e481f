"""The team overview at any size: 25 projects a page with their counts, and the bounded
"In error now" list (the query count at two sizes is in test_team_page.py)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import Integration, Status
from teams.models import Project, Team
from teams.views.teams import PROJECTS_PER_PAGE
from tests.conftest import login
from tests.teams.test_team_page import _seed_team


def team_url(team: Team) -> str:
    return reverse("team_detail", kwargs={"team_slug": team.slug})


def project_names(html: str) -> list[str]:
    """The names in the project table, in its order."""
    return [unescape(name) for name in re.findall(r'<td><a href="/projects/\d+/">(.*?)</a></td>', html)]


def pager_links(html: str) -> dict[str, str]:
    """rel → href of the pager's live links."""
    return {rel: unescape(href) for href, rel in re.findall(r'<a href="([^"]*)" rel="(prev|next)">', html)}


def project_row(html: str, name: str) -> str:
    match = re.search(rf"<tr>\s*<td><a [^>]*>{re.escape(name)}</a></td>.*?</tr>", html, re.S)
    assert match is not None, name
    return match.group(0)


def cell(row: str, name: str) -> int:
    match = re.search(rf'data-col="{name}">(?:<strong class="text-error">)?(\d+)', row)
    assert match is not None, name
    return int(match.group(1))


def in_error_titles(html: str) -> list[str]:
    listed = re.search(r'class="error-list">(.*?)</ul>', html, re.S)
    assert listed is not None
    return re.findall(r'<a href="/projects/\d+/">(.*?)</a>', listed.group(1))


def add_integration(project: Project, n: int, status: str, **fields: object) -> Integration:
    now = timezone.now()
    return Integration.objects.create(
        project=project,
        qonversion_id=f"{project.pk}-x{n}",
        title=f"{project.name} extra {n}",
        provider_name="Slack",
        platform="iOS",
        status=status,
        upstream_created_at=now,
        upstream_updated_at=now,
        **fields,
    )


@pytest.mark.django_db
def test_the_project_table_shows_25_a_page_by_name_with_links_between_pages(owner_client: Client, team: Team):
    _seed_team(team, 60, 0)
    url = team_url(team)
    first = owner_client.get(url).content.decode()
    assert PROJECTS_PER_PAGE == 25
    assert project_names(first) == [f"Project {k:03d}" for k in range(25)]
    assert "Showing 1–25 of 60 · Page 1 of 3" in first
    assert 'aria-disabled="true">← Previous' in first
    assert pager_links(first) == {"next": f"{url}?page=2"}

    second = owner_client.get(pager_links(first)["next"]).content.decode()
    assert project_names(second) == [f"Project {k:03d}" for k in range(25, 50)]
    assert "Showing 26–50 of 60 · Page 2 of 3" in second
    assert pager_links(second) == {"prev": url, "next": f"{url}?page=3"}  # page 1: the bare URL

    last = owner_client.get(pager_links(second)["next"]).content.decode()
    assert project_names(last) == [f"Project {k:03d}" for k in range(50, 60)]
    assert "Showing 51–60 of 60 · Page 3 of 3" in last
    assert 'aria-disabled="true">Next →' in last
    assert pager_links(last) == {"prev": f"{url}?page=2"}
    assert project_names(owner_client.get(pager_links(last)["prev"]).content.decode()) == project_names(second)


@pytest.mark.django_db
def test_a_team_that_fits_on_one_page_has_no_pager(owner_client: Client, team: Team):
    _seed_team(team, 25, 0)
    html = owner_client.get(team_url(team)).content.decode()
    assert len(project_names(html)) == 25
    assert 'class="pager"' not in html
    assert "No projects yet" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "shown"),
    [
        ("1", 1),
        ("3", 3),
        ("4", 3),  # past the end: the last page
        ("99999999999999999999", 3),
        ("9" * 5000, 3),  # more digits than int() reads
        ("abc", 1),
        ("-1", 1),
        ("0", 1),
        ("", 1),
        ("2.5", 1),
        ("1e3", 1),
        (" 2", 1),
        ("²", 1),  # a digit to str.isdigit, not to int()
        ("٢", 1),  # Arabic-Indic two: int() would read it, the URL means nothing
        ("2\x00", 1),
    ],
)
def test_any_page_parameter_shows_a_page_that_exists(owner_client: Client, team: Team, page: str, shown: int):
    _seed_team(team, 60, 0)
    response = owner_client.get(team_url(team), {"page": page})
    assert response.status_code == 200
    assert f"Page {shown} of 3" in response.content.decode()


@pytest.mark.django_db
def test_a_team_without_projects_says_so_whatever_the_page(owner_client: Client, team: Team):
    html = owner_client.get(team_url(team), {"page": "7"}).content.decode()
    assert "No projects yet" in html
    assert 'class="pager"' not in html


@pytest.mark.django_db
def test_a_project_on_page_2_has_its_own_counts_and_notes(owner_client: Client, team: Team):
    _seed_team(team, 30, 0)
    project = Project.objects.get(team=team, name="Project 027")
    for n, errors in enumerate((1, 2, 3)):
        add_integration(project, n, Status.ACTIVE, delivery_error_count=errors)
    for n in range(3, 5):
        add_integration(project, n, Status.PAUSED)
    for n in range(5, 9):
        add_integration(project, n, Status.ERROR, delivery_error_count=10, last_error_at=timezone.now())
    # Deleted rows count nowhere.
    add_integration(project, 9, Status.ERROR, delivery_error_count=100, deleted_at=timezone.now())
    # The breaker is open and the mirror is stale: both notes, with "Try now".
    Project.objects.filter(pk=project.pk).update(
        upstream_paused_until=timezone.now() + timedelta(minutes=5),
        synced_at=timezone.now() - timedelta(days=2),
        sync_error="Qonversion answered 503",
    )

    first = owner_client.get(team_url(team)).content.decode()
    assert "Project 027" not in project_names(first)
    html = owner_client.get(team_url(team), {"page": "2"}).content.decode()
    assert project_names(html) == [f"Project {k:03d}" for k in range(25, 30)]
    row = project_row(html, "Project 027")
    assert (cell(row, "active"), cell(row, "paused"), cell(row, "error"), cell(row, "delivery-errors")) == (3, 2, 4, 46)
    assert '<strong class="text-error">4</strong>' in row
    assert "Stale" in row
    assert "Qonversion answered 503" in row
    assert "Try now" in row
    assert reverse("project_try_now", kwargs={"project_id": project.pk}) in row
    quiet = project_row(html, "Project 026")
    assert (cell(quiet, "active"), cell(quiet, "paused"), cell(quiet, "error"), cell(quiet, "delivery-errors")) == (
        0,
        0,
        0,
        0,
    )
    assert "Try now" not in quiet


@pytest.mark.django_db
def test_in_error_now_lists_50_latest_failure_first_and_counts_the_rest(
    owner_client: Client, team: Team, other_team: Team
):
    _seed_team(team, 3, 0)
    projects = list(Project.objects.filter(team=team).order_by("name"))
    now = timezone.now()
    # 61 in Error across the projects, each failing a minute before the next; one never failed.
    for n in range(60):
        add_integration(
            projects[n % 3], n, Status.ERROR, last_error_at=now - timedelta(minutes=n), last_error_message=f"m{n}"
        )
    add_integration(projects[0], 99, Status.ERROR)
    # Not counted: deleted, not in Error, or another team's.
    add_integration(projects[1], 100, Status.ERROR, last_error_at=now, deleted_at=now)
    add_integration(projects[2], 101, Status.ACTIVE, last_error_at=now)
    _seed_team(other_team, 1, 0)
    add_integration(Project.objects.get(team=other_team), 102, Status.ERROR, last_error_at=now)

    html = owner_client.get(team_url(team)).content.decode()
    titles = in_error_titles(html)
    assert titles == [f"{projects[n % 3].name} extra {n}" for n in range(50)]
    assert "Latest failed delivery first." in html
    assert "and 11 more in error" in html

    # Fewer than 50: every one listed, the one that never failed last, nothing "more".
    Integration.objects.filter(project__team=team, title__regex=r"extra ([1-5]\d)$").delete()
    html = owner_client.get(team_url(team)).content.decode()
    titles = in_error_titles(html)
    assert titles == [f"{projects[n % 3].name} extra {n}" for n in range(10)] + [f"{projects[0].name} extra 99"]
    assert "more in error" not in html


@pytest.mark.django_db
def test_outsiders_get_404_on_any_page(outsider, team: Team):
    _seed_team(team, 30, 0)
    client = login(outsider)
    for page in ("", "2", "abc"):
        assert client.get(team_url(team), {"page": page}).status_code == 404
