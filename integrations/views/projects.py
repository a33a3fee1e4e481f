"""A project's integrations: the list with its filters, and its refresh from Qonversion."""

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

from integrations import breaker
from integrations.errors import IntegrationError
from integrations.filters import IntegrationFilters
from integrations.models import Platform
from integrations.selectors import filtered_integrations, provider_names, status_counts
from integrations.services import project_sync
from qonadmin.http import HtmxHttpRequest
from teams.access import Action, TeamAccess, get_project_for_user
from teams.models import Project

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
    # The page never waits on Qonversion: it shows the mirror (or "Loading…" before the
    # first refresh) at once and, when stale, asks for a refresh as soon as it loads
    # (hx-trigger="load"), in a request of its own that is bounded like every call.
    return render(request, PAGE, full_page_context(project, access, filters, refresh_on_load=sync_is_stale(project)))


@login_required
@require_POST
def project_try_now(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """End the circuit breaker's cool-off for this project and refresh at once."""
    project, _ = get_project_for_user(request.user, project_id, Action.VIEW)
    breaker.try_now(project)
    return project_refresh(request, project_id)


@login_required
@require_POST
def project_refresh(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.VIEW)
    filters = IntegrationFilters.from_query(request.GET)
    try:
        result = project_sync(project=project)
    except IntegrationError as error:
        if not request.htmx:
            why = error.explain(outcome="Showing the last known data", write=False)
            messages.error(request, f"Could not refresh from Qonversion: {why}")
    else:
        if not request.htmx:
            done = "Another refresh of this project is under way" if result.skipped else "Refreshed from Qonversion"
            messages.success(request, f"{done}.")
    if request.htmx:
        return render(request, f"{PAGE}#integration-list", project_context(project, access, filters, chips_oob=True))
    return redirect(project_url(project, filters))
