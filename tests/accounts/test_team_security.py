"""A team owner requires two-factor sign-in; members without it are sent to set it up."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from teams.models import Team
from tests.accounts import add_device, verified_client
from tests.conftest import HTMX, login

pytestmark = pytest.mark.django_db


def security_url(team: Team) -> str:
    return reverse("team_security", kwargs={"team_slug": team.slug})


def team_url(team: Team) -> str:
    return reverse("team_detail", kwargs={"team_slug": team.slug})


def require(team: Team) -> None:
    Team.objects.filter(pk=team.pk).update(require_two_factor=True)


def test_only_owners_see_the_page(team: Team, owner, member, viewer, outsider):
    assert login(owner).get(security_url(team)).status_code == 200
    assert login(member).get(security_url(team)).status_code == 403
    assert login(viewer).post(security_url(team), {"require_two_factor": "on"}).status_code == 403
    assert login(outsider).get(security_url(team)).status_code == 404
    assert Client().get(security_url(team))["Location"].startswith("/login/")
    team.refresh_from_db()
    assert not team.require_two_factor


def test_it_shows_who_has_two_factor_sign_in(team: Team, owner, member):
    add_device(member)
    html = login(owner).get(security_url(team)).content.decode()
    assert '<label for="id_require_two_factor">' in html
    assert "Require two-factor sign-in for this team" in html
    assert "<td>bob</td>\n          <td>Member</td>\n          <td>Set up</td>" in html
    assert '<td>alice</td>\n          <td>Owner</td>\n          <td><span class="text-error">Not set up</span>' in html


def test_an_owner_without_two_factor_cannot_require_it(team: Team, owner):
    response = login(owner).post(security_url(team), {"require_two_factor": "on"})
    assert "Set up two-factor sign-in for your own account first" in response.content.decode()
    team.refresh_from_db()
    assert not team.require_two_factor


def test_an_owner_turns_it_on_and_off(team: Team, owner):
    client = verified_client(owner, add_device(owner))
    response = client.post(security_url(team), {"require_two_factor": "on"}, follow=True)
    assert "Acme now requires two-factor sign-in." in response.content.decode()
    assert re.search(r'<input type="checkbox"[^>]*id="id_require_two_factor"[^>]*checked', response.content.decode())
    team.refresh_from_db()
    assert team.require_two_factor
    response = client.post(security_url(team), {}, follow=True)
    assert "Acme no longer requires two-factor sign-in." in response.content.decode()
    events = list(AuditEvent.objects.filter(team=team).order_by("id"))
    assert [(e.action, e.actor, e.detail) for e in events] == [
        ("team.2fa_required", owner, {"before": False, "after": True}),
        ("team.2fa_not_required", owner, {"before": True, "after": False}),
    ]


def test_saving_the_same_value_records_nothing(team: Team, owner):
    response = login(owner).post(security_url(team), {}, follow=True)
    assert "Nothing changed." in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_a_member_without_a_device_is_sent_to_set_it_up(team: Team, member):
    require(team)
    client = login(member)
    response = client.get(f"{team_url(team)}?status=2")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('two_factor')}?next=%2Fteams%2Facme%2F%3Fstatus%3D2"
    html = client.get(response["Location"]).content.decode()
    assert "Acme requires two-factor sign-in. Set it up to continue." in html
    assert "Required by Acme" in html


def test_a_member_with_a_device_is_asked_for_a_code(team: Team, member):
    require(team)
    add_device(member)
    client = login(member)  # signed in before the team required it: password only
    response = client.get(team_url(team))
    assert response["Location"] == f"{reverse('login_code')}?next=%2Fteams%2Facme%2F"
    html = client.get(response["Location"]).content.decode()
    assert "Acme requires two-factor sign-in. Enter a one-time code to continue." in html


def test_a_verified_member_gets_in(team: Team, member):
    require(team)
    client = verified_client(member, add_device(member))
    assert client.get(team_url(team)).status_code == 200


def test_htmx_requests_get_a_client_side_redirect_to_the_page_they_came_from(team: Team, member, project):
    require(team)
    client = login(member)
    page = f"http://testserver/projects/{project.pk}/"
    response = client.post(
        reverse("project_refresh", kwargs={"project_id": project.pk}), HTTP_HX_CURRENT_URL=page, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('two_factor')}?next=%2Fprojects%2F{project.pk}%2F"


def test_teams_that_do_not_require_it_stay_open(team: Team, other_team: Team, member):
    require(other_team)
    assert login(member).get(team_url(team)).status_code == 200
