"""Bulk pause, activate or delete: preview what will change, then apply row by row."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from integrations.fragments import (
    BULK_RESPONSE,
    BULK_STEP_RESPONSE,
    PAGE,
    bulk_panel_context,
    list_context,
    page_context,
)
from integrations.models import Integration
from integrations.selectors import integrations_by_ids
from integrations.services import BulkAction, BulkOutcome, bulk_would_change, integration_bulk_apply
from integrations.views.helpers import current_filters
from qonadmin.http import HtmxHttpRequest, client_ip, signed_in_user
from teams.access import Action, get_project_for_user

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
def integration_bulk_view(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project, access = get_project_for_user(request.user, project_id, Action.OPERATE)
    filters = current_filters(request)
    template = BULK_RESPONSE if request.htmx else PAGE
    try:
        action = BulkAction(request.POST.get("action", ""))
    except ValueError:
        return HttpResponse("Choose pause, activate or delete.", status=400)
    integrations = list(integrations_by_ids(project, _selected_ids(request.POST.getlist("ids"))))
    # With HTMX the preview is the panel alone; without it, the whole page.
    context = (bulk_panel_context if request.htmx else page_context)(project, access, filters, bulk_action=action)
    if not integrations:
        return render(request, template, {**context, "bulk_error": "Select at least one integration first."})

    if request.POST.get("confirm") != "yes":
        lines = [
            BulkLine(i, f"{i.get_status_display()} → {PAST_TENSE[action].lower()}")
            if bulk_would_change(i, action)
            else BulkLine(i, f"{UNCHANGED[action]}: no change", changes=False)
            for i in integrations
        ]
        changing = sum(line.changes for line in lines)
        return render(
            request, template, {**context, "bulk_lines": lines, "bulk_changing": changing, "bulk_step": "preview"}
        )

    # A step is bounded in time (QONADMIN_BULK_STEP_SECONDS); rows it had no time for are
    # carried by the next step, which htmx starts by itself (a button without JavaScript).
    step = integration_bulk_apply(
        integrations=integrations, actor=signed_in_user(request), action=action, ip=client_ip(request)
    )
    lines = [_result_line(outcome, action) for outcome in step.outcomes]
    earlier_done = _count(request, "done")
    total = max(_count(request, "total"), earlier_done + len(integrations))
    failed = _count(request, "failed") + sum(not line.ok for line in lines)
    continuing = bool(request.htmx) and "total" in request.POST
    # The list is rendered again with what Qonversion now reports for every row.
    # With HTMX the panel brings the list (and chip counts) along out of band.
    context = (list_context if request.htmx else page_context)(project, access, filters, bulk_action=action)
    step_context = {
        **context,
        "bulk_lines": lines,
        "bulk_failed": failed,
        "bulk_step": "done",
        "bulk_total": total,
        "bulk_done": earlier_done + len(step.outcomes),
        "bulk_remaining": step.remaining,
        "bulk_continuing": continuing,
    }
    return render(request, BULK_STEP_RESPONSE if continuing else template, step_context)


def _result_line(outcome: BulkOutcome, action: BulkAction) -> BulkLine:
    if outcome.error is not None:
        text = outcome.error.explain(
            outcome="Not changed", unknown_next="waiting for Qonversion to confirm; refresh to check"
        )
        return BulkLine(outcome.integration, text, ok=False)
    if outcome.changed:
        return BulkLine(outcome.integration, PAST_TENSE[action])
    return BulkLine(outcome.integration, f"{UNCHANGED[action]}: no change", changes=False)


def _count(request: HtmxHttpRequest, name: str) -> int:
    """A progress counter carried by a continuing step (display only; garbage counts as 0)."""
    value = request.POST.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 6 else 0
