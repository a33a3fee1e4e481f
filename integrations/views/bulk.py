"""Bulk pause, activate or delete: preview what will change, then apply row by row.

What a bulk action applies to: the ticked rows (`ids`, of the page shown), or with
`scope=matching` every integration of the project under the list's filters (`match`),
resolved here, at most MAX_BULK at once. The preview's confirm form then sends the
resolved ids, so what is applied is what was previewed."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from integrations.filters import IntegrationFilters
from integrations.fragments import (
    BULK_RESPONSE,
    PAGE,
    bulk_panel_context,
    list_context,
    page_context,
)
from integrations.models import BulkJob, Integration
from integrations.selectors import filtered_integrations, integrations_by_ids, status_counts
from integrations.services import BULK_PAST_TENSE, BULK_UNCHANGED, BulkAction, bulk_job_start, bulk_would_change
from integrations.views.helpers import current_filters
from qonadmin.http import HtmxHttpRequest, client_ip, signed_in_user
from teams.access import Action, TeamAccess, get_project_for_user
from teams.models import Project

MAX_BULK = 500


@dataclass(frozen=True)
class BulkLine:
    integration: Integration
    text: str
    ok: bool = True
    changes: bool = True


def _selected_ids(values: list[str]) -> list[int]:
    # isascii: "²".isdigit() is true; the length keeps ids inside a 64-bit column.
    return [int(value) for value in values if value.isascii() and value.isdigit() and len(value) <= 18][:MAX_BULK]


def _matching_ids(project: Project, match: str) -> tuple[list[int], int]:
    """For "Select all N matching": the ids of this project's live integrations under the
    filters the list was shown with (`match`, its query string), in list order, at most
    MAX_BULK of them, and how many match in all."""
    filters = IntegrationFilters.from_query(QueryDict(match)).first_page
    if filters.showing_deleted:
        return [], 0
    matching = status_counts(project, filters)[filters.status]
    ids = list(filtered_integrations(project, filters).values_list("pk", flat=True)[:MAX_BULK])
    return ids, matching


@login_required
@require_POST
def integration_bulk_view(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.OPERATE)
    filters = current_filters(request)
    template = BULK_RESPONSE if request.htmx else PAGE
    try:
        action = BulkAction(request.POST.get("action", ""))
    except ValueError:
        return HttpResponse("Choose pause, activate or delete.", status=400)
    matching = 0
    if request.POST.get("scope") == "matching":
        ids, matching = _matching_ids(project, request.POST.get("match", ""))
    else:
        ids = _selected_ids(request.POST.getlist("ids"))
    integrations = list(integrations_by_ids(project, ids))
    # With HTMX the preview is the panel alone; without it, the whole page.
    context = (bulk_panel_context if request.htmx else page_context)(project, access, filters, bulk_action=action)
    if matching > len(ids):
        context.update(bulk_capped=matching, bulk_max=MAX_BULK)
    if not integrations:
        return render(request, template, {**context, "bulk_error": "Select at least one integration first."})

    if request.POST.get("confirm") != "yes":
        lines = [
            BulkLine(i, f"{i.get_status_display()} → {BULK_PAST_TENSE[action].lower()}")
            if bulk_would_change(i, action)
            else BulkLine(i, f"{BULK_UNCHANGED[action]}: no change", changes=False)
            for i in integrations
        ]
        changing = sum(line.changes for line in lines)
        return render(
            request, template, {**context, "bulk_lines": lines, "bulk_changing": changing, "bulk_step": "preview"}
        )

    # The work runs as a task; the panel polls the job until every row has its result.
    job = bulk_job_start(
        project=project,
        actor=signed_in_user(request),
        action=action,
        integrations=integrations,
        ip=client_ip(request),
    )
    if not request.htmx:
        return redirect("integration_bulk_job", project_id=project.pk, job_id=job.pk)
    return _job_response(request, project, access, filters, job)


@login_required
@require_GET
def integration_bulk_job_view(request: HtmxHttpRequest, project_id: int, job_id: int) -> HttpResponse:
    """A bulk job's progress (polled by the panel), then each row's result."""
    project, access = get_project_for_user(request.user, project_id, Action.OPERATE)
    job = get_object_or_404(BulkJob, project=project, pk=job_id)
    return _job_response(request, project, access, current_filters(request), job)


def _job_response(
    request: HtmxHttpRequest, project: Project, access: TeamAccess, filters: IntegrationFilters, job: BulkJob
) -> HttpResponse:
    finished = job.finished_at is not None
    extra: dict[str, Any] = {"bulk_action": job.action, "bulk_job": job, "bulk_step": "done" if finished else "running"}
    if not request.htmx:
        return render(request, PAGE, page_context(project, access, filters, **extra))
    if not finished:
        return render(request, BULK_RESPONSE, bulk_panel_context(project, access, filters, **extra))
    # Done: the list comes along (out of band) with what Qonversion now reports for every row.
    return render(request, BULK_RESPONSE, list_context(project, access, filters, **extra))
