"""Bulk pause, activate or delete: preview what will change, then apply row by row."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from integrations.access import Action, get_project_for_user
from integrations.explain import explain
from integrations.models import Integration
from integrations.selectors import integrations_by_ids
from integrations.services import BulkAction, bulk_would_change, integrations_bulk_apply
from integrations.views.helpers import HtmxHttpRequest, client_ip, current_filters, signed_in_user
from integrations.views.projects import PAGE, full_page_context, project_context

MAX_BULK = 500
PAST_TENSE = {BulkAction.PAUSE: "Paused", BulkAction.ACTIVATE: "Activated", BulkAction.DELETE: "Deleted"}
UNCHANGED = {BulkAction.PAUSE: "Already paused", BulkAction.ACTIVATE: "Already active", BulkAction.DELETE: ""}


@dataclass(frozen=True)
class BulkLine:
    integration: Integration
    text: str
    ok: bool = True
    changes: bool = True


def _selected_ids(values: list[str]) -> list[int]:
    # isascii: "²".isdigit() is true; the length keeps ids inside a 64-bit column.
    return [int(value) for value in values if value.isascii() and value.isdigit() and len(value) <= 18][:MAX_BULK]


@login_required
@require_POST
def integration_bulk(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.OPERATE)
    filters = current_filters(request)
    template = f"{PAGE}#bulk-panel" if request.htmx else PAGE
    page_context = project_context if request.htmx else full_page_context
    try:
        action = BulkAction(request.POST.get("action", ""))
    except ValueError:
        return HttpResponse("Choose pause, activate or delete.", status=400)
    integrations = list(integrations_by_ids(project, _selected_ids(request.POST.getlist("ids"))))
    context = page_context(project, access, filters, bulk_action=action)
    if not integrations:
        return render(request, template, {**context, "bulk_error": "Select at least one integration first."})

    if request.POST.get("confirm") != "yes":
        lines = [
            BulkLine(i, f"{i.status.label} → {PAST_TENSE[action].lower()}")
            if bulk_would_change(i, action)
            else BulkLine(i, f"{UNCHANGED[action]}: no change", changes=False)
            for i in integrations
        ]
        changing = sum(line.changes for line in lines)
        return render(
            request, template, {**context, "bulk_lines": lines, "bulk_changing": changing, "bulk_step": "preview"}
        )

    outcomes = integrations_bulk_apply(
        integrations=integrations, actor=signed_in_user(request), action=action, ip=client_ip(request)
    )
    lines = []
    for outcome in outcomes:
        if outcome.error is not None:
            lines.append(BulkLine(outcome.integration, explain(outcome.error, outcome="Not changed"), ok=False))
        elif outcome.changed:
            lines.append(BulkLine(outcome.integration, PAST_TENSE[action]))
        else:
            lines.append(BulkLine(outcome.integration, f"{UNCHANGED[action]}: no change", changes=False))
    # The list is rendered again with what Qonversion now reports for every row.
    # With HTMX the panel brings the list (and chip counts) along out of band.
    oob = bool(request.htmx)
    context = page_context(project, access, filters, bulk_action=action, chips_oob=oob, list_oob=oob)
    failed = sum(not line.ok for line in lines)
    return render(request, template, {**context, "bulk_lines": lines, "bulk_failed": failed, "bulk_step": "done"})
