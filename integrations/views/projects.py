"""A project's integrations: the list with its filters, and its refresh from Qonversion."""

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from integrations.access import Action, TeamAccess, get_project_for_user
from integrations.explain import explain
from integrations.filters import IntegrationFilters
from integrations.models import Platform, Project
from integrations.qonversion import QonversionError
from integrations.selectors import filtered_integrations, provider_names, status_counts
from integrations.services import project_sync
from integrations.views.helpers import HtmxHttpRequest

PAGE = "integrations/project.html"


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


def project_context(
    project: Project, access: TeamAccess, filters: IntegrationFilters, **extra: object
) -> dict[str, object]:
    query = filters.querystring()
    return {
        "project": project,
        "team": project.team,
        "access": access,
        "filters": filters,
        "filter_query": query,
        "integrations": list(filtered_integrations(project, filters)),
        **chips_context(project, filters),
        **extra,
    }


def full_page_context(
    project: Project, access: TeamAccess, filters: IntegrationFilters, **extra: object
) -> dict[str, object]:
    """Everything the whole page needs: the list plus the filter bar's choices."""
    return project_context(
        project, access, filters, platforms=Platform.values, providers=provider_names(project), **extra
    )


@login_required
@require_GET
def project_detail(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id)
    filters = IntegrationFilters.from_query(request.GET)
    if request.htmx and not request.htmx.history_restore_request:
        # A filter change: only the list (and its chips) is replaced.
        return render(request, f"{PAGE}#integration-list", project_context(project, access, filters, chips_oob=True))
    if project.synced_at is None:
        # Never synced: there is nothing to show yet, so fetch before rendering.
        with contextlib.suppress(QonversionError):  # the page shows project.sync_error in its banner
            project_sync(project=project)
    # Otherwise the page shows the mirror at once; if it is stale, the page asks for
    # a refresh as soon as it loads (hx-trigger="load"), so a slow Qonversion never
    # delays the first paint.
    return render(request, PAGE, full_page_context(project, access, filters, refresh_on_load=sync_is_stale(project)))


@login_required
@require_POST
def project_refresh(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.VIEW)
    filters = IntegrationFilters.from_query(request.GET)
    try:
        project_sync(project=project)
    except QonversionError as error:
        if not request.htmx:
            messages.error(
                request, f"Could not refresh from Qonversion: {explain(error, outcome='Showing the last known data')}"
            )
    else:
        if not request.htmx:
            messages.success(request, "Refreshed from Qonversion.")
    if request.htmx:
        return render(request, f"{PAGE}#integration-list", project_context(project, access, filters, chips_oob=True))
    return redirect(project_url(project, filters))
