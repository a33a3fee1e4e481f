"""A project's integrations: the list with its filters, and its refresh from Qonversion."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from integrations import breaker
from integrations.errors import IntegrationError
from integrations.filters import IntegrationFilters
from integrations.fragments import LIST_RESPONSE, PAGE, list_context, needs_refresh_on_load, page_context, project_url
from integrations.sync import project_sync
from qonadmin.http import HtmxHttpRequest
from teams.access import Action, get_project_for_user


@login_required
@require_GET
def project_detail_view(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id)
    filters = IntegrationFilters.from_query(request.GET)
    if request.htmx and not request.htmx.history_restore_request:
        # A filter change: only the list (and its chips) is replaced.
        return render(request, LIST_RESPONSE, list_context(project, access, filters))
    # The page never waits on Qonversion: it shows the mirror (or "Loading…" before the
    # first refresh) at once and, when stale, asks for a refresh as soon as it loads
    # (hx-trigger="load"), in a request of its own that is bounded like every call.
    return render(request, PAGE, page_context(project, access, filters, refresh_on_load=needs_refresh_on_load(project)))


@login_required
@require_POST
def project_try_now_view(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """End the circuit breaker's cool-off for this project and refresh at once."""
    project, _ = get_project_for_user(request.user, project_id, Action.VIEW)
    breaker.try_now(project)
    return project_refresh_view(request, project_id)


@login_required
@require_POST
def project_refresh_view(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.VIEW)
    filters = IntegrationFilters.from_query(request.GET)
    pending = False
    try:
        result = project_sync(project=project)
    except IntegrationError as error:
        if not request.htmx:
            why = error.explain(outcome="Showing the last known data", write=False)
            messages.error(request, f"Could not refresh from Qonversion: {why}")
    else:
        pending = result.skipped
        if not request.htmx:
            done = "Another refresh of this project is under way" if result.skipped else "Refreshed from Qonversion"
            messages.success(request, f"{done}.")
    if request.htmx:
        # Another refresh is talking to Qonversion: show the mirror and ask again in a
        # second, so this list never stays behind the newer one that refresh writes.
        return render(request, LIST_RESPONSE, list_context(project, access, filters, refresh_pending=pending))
    return redirect(project_url(project, filters))
