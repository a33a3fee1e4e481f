"""Signed-in landing page and the team overview."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from integrations.selectors import integrations_in_error, projects_with_health
from teams.access import get_team_for_user, memberships_for_user


@login_required
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    """One team: go straight there. Several: pick one. None: say who to ask."""
    memberships = list(memberships_for_user(request.user))
    if len(memberships) == 1:
        return redirect("team_detail", team_slug=memberships[0].team.slug)
    return render(request, "teams/home.html", {"memberships": memberships})


@login_required
@require_GET
def team_detail_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug)
    projects = list(projects_with_health(access.team))
    in_error = list(integrations_in_error(access.team))
    # Every integration in Error is counted in its project's row: no COUNT of its own.
    in_error_total = sum(project.error_count for project in projects)  # type: ignore[attr-defined]
    return render(
        request,
        "teams/team.html",
        {
            "access": access,
            "team": access.team,
            "projects": projects,
            "in_error": in_error,
            "in_error_more": max(0, in_error_total - len(in_error)),
        },
    )
