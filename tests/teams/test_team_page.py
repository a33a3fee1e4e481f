"""Landing after sign-in and the team overview."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from integrations.services import integration_create, integration_set_status
from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Membership, Project, Role, Team
from tests.conftest import SANDBOX_KEY, login


@pytest.mark.django_db
def test_it_lands_a_one_team_user_on_the_team(owner_client: Client, team: Team):
    response = owner_client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("team_detail", kwargs={"team_slug": team.slug})


@pytest.mark.django_db
def test_it_lets_a_user_of_several_teams_pick_one(owner, team: Team, other_team: Team):
    Membership.objects.create(team=other_team, user=owner, role=Role.VIEWER)
    html = login(owner).get(reverse("home")).content.decode()
    assert "Acme" in html
    assert "Globex" in html
    assert reverse("team_detail", kwargs={"team_slug": "globex"}) in html


@pytest.mark.django_db
def test_it_tells_a_user_without_a_team_whom_to_ask(django_user_model):
    user = django_user_model.objects.create_user("lonely", password="x")
    html = login(user).get(reverse("home")).content.decode()
    assert "Ask a team admin to invite you" in html


@pytest.mark.django_db
def test_it_asks_anonymous_visitors_to_log_in(client: Client, team: Team):
    response = client.get(reverse("team_detail", kwargs={"team_slug": team.slug}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_it_counts_states_and_delivery_errors_per_project(
    project: Project, owner, owner_client, sandbox: SandboxControl
):
    made = [
        integration_create(
            project=project, actor=owner, title=f"I{n}", provider_slug="slack", platform="iOS", idempotency_key=f"k{n}"
        )
        for n in range(4)
    ]
    for integration in made[:3]:
        integration_set_status(integration=integration, actor=owner, active=True)
    sandbox.deliveries(
        key=SANDBOX_KEY, integration_id=made[0].qonversion_id, outcome="failure", count=5, message="down"
    )
    sandbox.deliveries(
        key=SANDBOX_KEY, integration_id=made[1].qonversion_id, outcome="failure", count=2, message="slow"
    )
    project_sync(project=project)
    html = owner_client.get(reverse("team_detail", kwargs={"team_slug": project.team.slug})).content.decode()

    def cell(name: str) -> str:
        match = re.search(rf'data-col="{name}">(?:<strong class="text-error">)?(\d+)', html)
        assert match is not None
        return match.group(1)

    assert (cell("active"), cell("paused"), cell("error"), cell("delivery-errors")) == ("2", "1", "1", "7")
    # The broken one is listed under "In error now", and the top bar says so.
    assert re.search(r'class="error-list">.*I0.*down', html, re.S)
    assert "1 in error" in html


@pytest.mark.django_db
def test_the_top_bar_hides_a_two_factor_teams_errors_from_an_unverified_session(
    project: Project, owner, other_team: Team, sandbox: SandboxControl
):
    integration = integration_create(
        project=project, actor=owner, title="Broken", provider_slug="slack", platform="iOS", idempotency_key="k"
    )
    integration_set_status(integration=integration, actor=owner, active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5)
    project_sync(project=project)
    Membership.objects.create(team=other_team, user=owner, role=Role.OWNER)
    client = login(owner)
    assert "1 in error" in client.get(reverse("home")).content.decode()
    Team.objects.filter(pk=project.team_id).update(require_two_factor=True)
    assert "in error" not in client.get(reverse("home")).content.decode()


def _seed_team(team: Team, projects: int, each: int) -> None:
    from django.utils import timezone

    from integrations.models import Integration, Status

    made = []
    for k in range(projects):
        project = Project(team=team, name=f"Project {k:03d}")
        project.set_secret_key(f"test_sk_team_scale_{k}")
        made.append(project)
    for project in made:
        project.save()
    now = timezone.now()
    Integration.objects.bulk_create(
        Integration(
            project=project,
            qonversion_id=f"{project.pk}-{n}",
            title=f"{project.name} integration {n}",
            provider_name="Slack",
            platform="iOS",
            status=list(Status)[n % 3],
            delivery_error_count=n % 5,
            last_error_message="boom" if list(Status)[n % 3] == Status.ERROR else "",
            upstream_created_at=now,
            upstream_updated_at=now,
        )
        for project in made
        for n in range(each)
    )


@pytest.mark.django_db
def test_the_team_page_runs_as_many_queries_for_200_projects_as_for_2(owner, team: Team, owner_client: Client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations.models import Integration, Status

    url = reverse("team_detail", kwargs={"team_slug": team.slug})
    counts: dict[int | str, int] = {}
    for projects in (2, 200):
        Project.objects.filter(team=team).delete()
        _seed_team(team, projects, 25)
        with CaptureQueriesContext(connection) as queries:
            html = owner_client.get(url).content.decode()
        counts[projects] = len(queries)
    # A page past the first, and one past the end (shown as the last), cost the same.
    for query in ("?page=2", "?page=8", "?page=9"):
        with CaptureQueriesContext(connection) as queries:
            assert "Page" in owner_client.get(url + query).content.decode()
        counts[query] = len(queries)
    assert len(set(counts.values())) == 1, counts
    assert Integration.objects.count() == 5000
    # One page of projects has its rows; the "In error now" list is bounded, the rest counted.
    assert html.count('data-col="active"') == 25
    assert "Showing 1–25 of 200 · Page 1 of 8" in html
    in_error = Integration.objects.filter(status=Status.ERROR).count()
    assert html.count("<li>") >= 50
    assert len(re.findall(r'class="error-list">(.*?)</ul>', html, re.S)[0].split("<li>")) - 1 == 50
    assert f"and {in_error - 50} more in error" in html
