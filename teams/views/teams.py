"""Signed-in landing page and the team overview."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from integrations.selectors import in_error_count, integrations_in_error, projects_with_health, team_projects
from qonadmin.paging import page_number, page_span
from teams.access import get_team_for_user, memberships_for_user

# Rows of the team overview's project table: what it costs does not grow with the team.
PROJECTS_PER_PAGE = 25


@login_required
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    """One team: go straight there. Several: pick one. None: say who to ask."""
    memberships = list(memberships_for_user(request.user))
    if len(memberships) == 1:
        return redirect("team_detail", team_slug=memberships[0].team.slug)
    return render(request, "teams/home.html", {"memberships": memberships})


@dataclass(frozen=True)
class ProjectPager:
    """Where the shown projects sit among the team's: page `number` of `pages`."""

    number: int
    pages: int
    total: int  # the team's projects, every page
    first: int  # 1-based positions of the first and last project shown (0 when none)
    last: int
    previous_url: str  # "" on the first page
    next_url: str  # "" on the last page

    @property
    def paginated(self) -> bool:
        return self.pages > 1


def project_pager(total: int, requested: int, url: str) -> ProjectPager:
    """The page shown for `requested` (past the last: the last) among `total` projects;
    its links point at `url`, page 1 without a query string."""
    span = page_span(total, requested, PROJECTS_PER_PAGE)
    number = span.number

    def link(page: int) -> str:
        return url if page == 1 else f"{url}?page={page}"

    return ProjectPager(
        number=number,
        pages=span.pages,
        total=total,
        first=span.first,
        last=span.last,
        previous_url=link(number - 1) if number > 1 else "",
        next_url=link(number + 1) if number < span.pages else "",
    )


@login_required
@require_GET
def team_detail_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    """The team's projects a page at a time, with their counts, and what is in Error now.
    The same number of queries, each bounded by the page and not by the team: the count
    of projects, one page of them with their counts, the 50 in error shown and their count."""
    access = get_team_for_user(request.user, team_slug)
    team = access.team
    ordered = team_projects(team)
    pager = project_pager(
        ordered.count(),
        page_number(request.GET.get("page", "")),
        reverse("team_detail", kwargs={"team_slug": team.slug}),
    )
    offset = (pager.number - 1) * PROJECTS_PER_PAGE
    projects = list(projects_with_health(ordered[offset : offset + PROJECTS_PER_PAGE]))
    in_error = list(integrations_in_error(team))
    # Counted even when the list is short: the page runs the same queries at any size.
    in_error_total = in_error_count(team)
    return render(
        request,
        "teams/team.html",
        {
            "access": access,
            "team": team,
            "projects": projects,
            # {% url %} for each of 75 links was a good part of the page's cost: reversed
            # once, a project's page is this and its id (as integration_url does).
            "project_url": reverse("project_detail", kwargs={"project_id": 0}).removesuffix("0/"),
            "pager": pager,
            "in_error": in_error,
            "in_error_more": max(0, in_error_total - len(in_error)),
        },
    )
