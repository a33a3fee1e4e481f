"""One integration: its details, pause/activate, and delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from integrations.access import get_integration_for_user
from integrations.errors import IntegrationError
from integrations.fragments import DETAILS, ROW_RESPONSE, project_url, row_context
from integrations.history import integration_history
from integrations.models import Integration, Status
from integrations.services import integration_delete, integration_set_status
from integrations.views.helpers import current_filters
from qonadmin.http import HtmxHttpRequest, client_ip, safe_next, signed_in_user
from teams.access import Action, TeamAccess
from teams.models import Project

DETAIL_PAGE = "integrations/integration_detail.html"
DELETE_PAGE = "integrations/integration_delete.html"


def _row_response(
    request: HtmxHttpRequest, project: Project, integration: Integration, access: TeamAccess, **extra: object
) -> HttpResponse:
    """The updated row, plus the status chips out of band (their counts changed)."""
    return render(request, ROW_RESPONSE, row_context(project, integration, access, current_filters(request), **extra))


@login_required
@require_http_methods(["GET"])
def integration_detail_view(request: HtmxHttpRequest, project_id: int, integration_id: int) -> HttpResponse:
    integration, project, access = get_integration_for_user(request.user, project_id, integration_id)
    context = {
        "integration": integration,
        "project": project,
        "team": project.team,
        "access": access,
        "history": list(integration_history(integration)),
    }
    template = DETAILS if request.htmx else DETAIL_PAGE
    return render(request, template, context)


@login_required
@require_POST
def integration_status_view(request: HtmxHttpRequest, project_id: int, integration_id: int) -> HttpResponse:
    integration, project, access = get_integration_for_user(request.user, project_id, integration_id, Action.OPERATE)
    wanted = request.POST.get("status")
    if wanted not in (Status.PAUSED, Status.ACTIVE) or integration.is_deleted:
        return HttpResponse("Choose status=paused or status=active for a live integration.", status=400)
    verb = "Activated" if wanted == Status.ACTIVE else "Paused"
    # Everything read from the request is read before the write, so nothing the client
    # sent can fail the response once Qonversion has made the change.
    back = safe_next(request, project_url(project, current_filters(request)))
    try:
        integration_set_status(
            integration=integration,
            actor=signed_in_user(request),
            active=wanted == Status.ACTIVE,
            ip=client_ip(request),
        )
    except IntegrationError as error:
        if error.not_found:
            messages.warning(request, f"“{integration.title}”: {error.explain(outcome='It is marked deleted here')}")
            if request.htmx:
                return _row_response(request, project, integration, access=access, row_removed=True)
            return redirect(back)
        message = error.explain(
            outcome="The integration was not changed",
            unknown_next="it is marked “Waiting for Qonversion to confirm” until a refresh shows the outcome",
        )
        if request.htmx:
            # The row keeps the state Qonversion last reported, with the reason beside it.
            return _row_response(request, project, integration, access=access, row_error=message)
        messages.error(request, f"“{integration.title}”: {message}")
    else:
        if request.htmx:
            return _row_response(request, project, integration, access=access, row_notice=f"{verb}.")
        messages.success(
            request, f"{verb} “{integration.title}”. Qonversion reports it {integration.get_status_display()}."
        )
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def integration_delete_view(request: HtmxHttpRequest, project_id: int, integration_id: int) -> HttpResponse:
    integration, project, access = get_integration_for_user(request.user, project_id, integration_id, Action.OPERATE)
    back = safe_next(request, project_url(project, current_filters(request)))
    if request.method == "GET":
        # The confirmation page, for browsers without JavaScript (HTMX asks with hx-confirm).
        context = {"integration": integration, "project": project, "team": project.team, "access": access}
        return render(request, DELETE_PAGE, context)
    if integration.is_deleted:
        messages.info(request, f"“{integration.title}” was already deleted.")
        if request.htmx:
            return _row_response(request, project, integration, access=access, row_removed=True)
        return redirect(back)
    try:
        integration_delete(integration=integration, actor=signed_in_user(request), ip=client_ip(request))
    except IntegrationError as error:
        message = error.explain(
            outcome="Nothing was deleted", unknown_next="refresh the list to see whether it is gone"
        )
        if request.htmx:
            return _row_response(request, project, integration, access=access, row_error=message)
        messages.error(request, f"“{integration.title}”: {message}")
        return redirect(back)
    messages.success(
        request, f"Deleted “{integration.title}” in Qonversion. Its id {integration.qonversion_id} will not be reused."
    )
    if request.htmx:
        return _row_response(request, project, integration, access=access, row_removed=True)
    return redirect(back)
