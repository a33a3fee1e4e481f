"""What each part of the project page needs, built in one place.

Every HTMX swap target of the project page is a template of its own under
templates/integrations/project/, and each has one context builder here, so a view
that renders a fragment builds only that fragment's context.
"""

from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from integrations.filters import PAGE_SIZE, IntegrationFilters
from integrations.history import row_health
from integrations.models import Integration, Platform
from integrations.selectors import filtered_integrations, project_facets, status_counts
from qonadmin.paging import page_span
from teams.access import TeamAccess
from teams.models import Project

PAGE = "integrations/project.html"
LIST_RESPONSE = "integrations/project/list_response.html"
ROW_RESPONSE = "integrations/project/row_response.html"
DETAILS = "integrations/project/details.html"
CREATE_FORM = "integrations/project/create_form.html"
CREATE_RESPONSE = "integrations/project/create_response.html"
BULK_RESPONSE = "integrations/project/bulk_response.html"


@dataclass(frozen=True)
class Chip:
    value: str
    label: str
    count: int
    selected: bool


CHIP_LABELS = {"all": "All", "error": "Error", "active": "Active", "paused": "Paused", "deleted": "Deleted"}


def needs_refresh_on_load(project: Project) -> bool:
    """Whether the page asks for a refresh as it loads (older than QONADMIN_SYNC_MAX_AGE_SECONDS);
    not the same as stale (integrations/history.py: not refreshed for several intervals)."""
    if project.synced_at is None:
        return True
    return timezone.now() - project.synced_at > timedelta(seconds=settings.QONADMIN_SYNC_MAX_AGE_SECONDS)


def project_url(project: Project, filters: IntegrationFilters) -> str:
    query = filters.querystring()
    return reverse("project_detail", kwargs={"project_id": project.pk}) + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Pager:
    """Where the shown rows sit among every matching one: page `number` of `pages`."""

    number: int
    pages: int
    matching: int  # rows under the current filters, every page
    first: int  # 1-based position of the first shown row (0: none)
    last: int
    previous_query: str  # the list's query string for the previous / next page ("" if none)
    next_query: str

    @property
    def paginated(self) -> bool:
        return self.pages > 1


def pager_for(filters: IntegrationFilters, matching: int) -> tuple[IntegrationFilters, Pager]:
    """The filters on a page that exists (past the last: the last), and its pager."""
    span = page_span(matching, filters.page, PAGE_SIZE)
    number = span.number
    if number != filters.page:
        filters = replace(filters, page=number)
    return filters, Pager(
        number=number,
        pages=span.pages,
        matching=matching,
        first=span.first,
        last=span.last,
        previous_query=filters.querystring(page=number - 1) if number > 1 else "",
        next_query=filters.querystring(page=number + 1) if number < span.pages else "",
    )


def _chips(counts: dict[str, int], filters: IntegrationFilters) -> list[Chip]:
    return [Chip(value, label, counts[value], filters.status == value) for value, label in CHIP_LABELS.items()]


def chips_context(project: Project, filters: IntegrationFilters) -> dict[str, object]:
    counts = status_counts(project, filters)
    return {"chips": _chips(counts, filters), "filters": filters, "project": project}


# Columns no row of the list shows: not read, not converted (a page has 100 rows).
_NOT_IN_THE_LIST = ("provider_slug", "upstream_created_at", "upstream_updated_at", "synced_at", "created_by")


def list_context(
    project: Project,
    access: TeamAccess,
    filters: IntegrationFilters,
    *,
    counts: dict[str, int] | None = None,
    **extra: object,
) -> dict[str, object]:
    """One page of the list and the chips (the refresh and filter targets), with each
    row's health (in Error since, errors over 24 h) for all its rows at once.

    The chips' counts (one aggregate query) also give the number of matching rows, so
    paging costs no COUNT of its own."""
    counts = status_counts(project, filters) if counts is None else counts
    filters, pager = pager_for(filters, counts[filters.status])
    offset = (pager.number - 1) * PAGE_SIZE
    rows = filtered_integrations(project, filters).defer(*_NOT_IN_THE_LIST)
    integrations = list(rows[offset : offset + PAGE_SIZE])
    return {
        "project": project,
        "team": project.team,
        "access": access,
        "filters": filters,
        "filter_query": filters.querystring(),
        "matching_query": filters.first_page.querystring(),
        "integrations": integrations,
        "pager": pager,
        "row_health": row_health(integrations),
        "chips": _chips(counts, filters),
        **extra,
    }


def page_context(
    project: Project, access: TeamAccess, filters: IntegrationFilters, **extra: object
) -> dict[str, object]:
    """Everything the whole page needs: the list plus the filter bar's choices, the
    providers and (without a title search) the chips' counts from one grouped query."""
    facets = project_facets(project)
    return list_context(
        project,
        access,
        filters,
        counts=facets.counts(filters),
        platforms=Platform.values,
        providers=facets.providers,
        **extra,
    )


def row_context(
    project: Project, integration: Integration, access: TeamAccess, filters: IntegrationFilters, **extra: object
) -> dict[str, object]:
    """One row after an action on it, with the chips (their counts changed)."""
    return {
        "integration": integration,
        "access": access,
        "row_health": row_health([integration]),
        **chips_context(project, filters),
        **extra,
    }


def bulk_panel_context(
    project: Project, access: TeamAccess, filters: IntegrationFilters, **extra: object
) -> dict[str, object]:
    """The bulk panel alone (its preview): no list."""
    return {"project": project, "access": access, "filters": filters, "filter_query": filters.querystring(), **extra}
