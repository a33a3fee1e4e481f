"""What each part of the project page needs, built in one place.

Every HTMX swap target of the project page is a template of its own under
templates/integrations/project/, and each has one context builder here, so a view
that renders a fragment builds only that fragment's context.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from integrations.filters import IntegrationFilters
from integrations.history import row_health
from integrations.models import Integration, Platform
from integrations.selectors import filtered_integrations, provider_names, status_counts
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


def sync_is_stale(project: Project) -> bool:
    if project.synced_at is None:
        return True
    return timezone.now() - project.synced_at > timedelta(seconds=settings.QONADMIN_SYNC_MAX_AGE_SECONDS)


def project_url(project: Project, filters: IntegrationFilters) -> str:
    query = filters.querystring()
    return reverse("project_detail", kwargs={"project_id": project.pk}) + (f"?{query}" if query else "")


def chips_context(project: Project, filters: IntegrationFilters) -> dict[str, object]:
    counts = status_counts(project, filters)
    chips = [Chip(value, label, counts[value], filters.status == value) for value, label in CHIP_LABELS.items()]
    return {"chips": chips, "filters": filters, "project": project}


def list_context(
    project: Project, access: TeamAccess, filters: IntegrationFilters, **extra: object
) -> dict[str, object]:
    """The list and its chips (the refresh and filter targets), with each row's health
    (in Error since, errors over 24 h) for all rows at once."""
    query = filters.querystring()
    shown = filtered_integrations(project, filters)
    integrations = list(shown)
    return {
        "project": project,
        "team": project.team,
        "access": access,
        "filters": filters,
        "filter_query": query,
        "integrations": integrations,
        "row_health": row_health(integrations, shown=shown),
        **chips_context(project, filters),
        **extra,
    }


def page_context(
    project: Project, access: TeamAccess, filters: IntegrationFilters, **extra: object
) -> dict[str, object]:
    """Everything the whole page needs: the list plus the filter bar's choices."""
    return list_context(project, access, filters, platforms=Platform.values, providers=provider_names(project), **extra)


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
