"""The top bar's "N in error" on every page: bounded work at any size, and a link to the
team that needs it most."""

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations import context_processors
from integrations.models import Status
from teams.models import Membership, Project, Role, Team
from tests.conftest import login
from tests.factories import mirror_rows


def broken(project: Project, count: int, status: str = Status.ERROR) -> None:
    mirror_rows(project, count, status=status)


def second_project(team: Team, name: str = "app") -> Project:
    project = Project(team=team, name=f"{team.name} {name}")
    project.set_secret_key("test_sk_second_project_key")
    project.save()
    return project


def page(team: Team) -> str:
    return reverse("team_detail", kwargs={"team_slug": team.slug})


def indicator(html: str) -> re.Match[str] | None:
    return re.search(r'<a class="error-indicator" href="([^"]+)"[^>]*>.*?([\d+]+) in error</a>', html, re.S)


@pytest.mark.django_db
def test_it_counts_every_team_and_links_to_the_one_with_most_in_error(team: Team, other_team: Team, owner: User):
    Membership.objects.create(team=other_team, user=owner, role=Role.VIEWER)
    broken(second_project(team), 1)
    broken(second_project(other_team), 3)
    broken(second_project(other_team, "web"), 4, status=Status.ACTIVE)  # not in Error: not counted
    found = indicator(login(owner).get(page(team)).content.decode())
    assert found is not None
    assert found.groups() == (reverse("team_detail", kwargs={"team_slug": other_team.slug}), "4")


@pytest.mark.django_db
def test_past_the_cap_it_says_so_and_reads_no_more(team: Team, owner: User, monkeypatch):
    monkeypatch.setattr(context_processors, "NAV_ERRORS_COUNTED", 5)
    project = second_project(team)
    broken(project, 5)
    client = login(owner)
    found = indicator(client.get(page(team)).content.decode())
    assert found is not None and found.group(2) == "5"

    broken(project, 40)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(page(team)).content.decode()
    found = indicator(html)
    assert found is not None and found.group(2) == "5+"
    # The count reads one past the cap, whatever the number in Error.
    assert any(q["sql"].rstrip().endswith("LIMIT 6") for q in queries.captured_queries)


@pytest.mark.django_db
def test_nothing_in_error_shows_no_indicator(team: Team, owner: User):
    broken(second_project(team), 2, status=Status.PAUSED)
    assert indicator(login(owner).get(page(team)).content.decode()) is None
