"""A project's integrations: the list, and its refresh from Qonversion."""

import contextlib
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from integrations.access import Action, TeamAccess, get_project_for_user
from integrations.explain import explain
from integrations.models import Project
from integrations.qonversion import QonversionError
from integrations.selectors import live_integrations
from integrations.services import project_sync
from integrations.views.helpers import HtmxHttpRequest

PAGE = "integrations/project.html"


def sync_is_stale(project: Project) -> bool:
    if project.synced_at is None:
        return True
    return timezone.now() - project.synced_at > timedelta(seconds=settings.QONADMIN_SYNC_MAX_AGE_SECONDS)


def project_context(project: Project, access: TeamAccess, **extra: object) -> dict[str, object]:
    return {
        "project": project,
        "team": project.team,
        "access": access,
        "integrations": list(live_integrations(project)),
        **extra,
    }


@login_required
@require_GET
def project_detail(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id)
    if project.synced_at is None:
        # Never synced: there is nothing to show yet, so fetch before rendering.
        with contextlib.suppress(QonversionError):  # the page shows project.sync_error in its banner
            project_sync(project=project)
    # Otherwise the page shows the mirror at once; if it is stale, the page asks for
    # a refresh as soon as it loads (hx-trigger="load"), so a slow Qonversion never
    # delays the first paint.
    return render(request, PAGE, project_context(project, access, refresh_on_load=sync_is_stale(project)))


@login_required
@require_POST
def project_refresh(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.VIEW)
    try:
        project_sync(project=project)
    except QonversionError as error:
        message = explain(error, outcome="Showing the last known data")
        if not request.htmx:
            messages.error(request, f"Could not refresh from Qonversion: {message}")
    else:
        if not request.htmx:
            messages.success(request, "Refreshed from Qonversion.")
    if request.htmx:
        return render(request, f"{PAGE}#integration-list", project_context(project, access))
    return redirect("project_detail", project_id=project.pk)
