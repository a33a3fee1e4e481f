"""The team's audit log: browse with filters, export as CSV (admins and owners)."""

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, time

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.forms import AuditFilterForm
from audit.models import AuditEvent
from audit.selectors import team_audit_events
from qonadmin.redaction import redact
from teams.access import Action, get_team_for_user
from teams.models import Team

PAGE_SIZE = 50
CSV_COLUMNS = [
    "time_utc",
    "actor",
    "action",
    "outcome",
    "project",
    "target_type",
    "target_id",
    "target",
    "ip",
    "detail",
]


def _filtered(team: Team, request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    events = team_audit_events(team)
    form = AuditFilterForm(
        request.GET or None,
        actions=list(events.order_by("action").values_list("action", flat=True).distinct()),
        projects=list(
            events.exclude(project_name="").order_by("project_name").values_list("project_name", flat=True).distinct()
        ),
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            events = events.filter(actor_username__iexact=data["actor"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["project"]:
            events = events.filter(project_name=data["project"])
        if data["since"]:
            events = events.filter(created_at__gte=datetime.combine(data["since"], time.min, tzinfo=UTC))
        if data["until"]:
            events = events.filter(created_at__lte=datetime.combine(data["until"], time.max, tzinfo=UTC))
    return form, events.order_by("-created_at", "-pk")


@login_required
@require_GET
def team_audit_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_MEMBERS)
    form, events = _filtered(access.team, request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"team": access.team, "access": access, "form": form, "page": page, "query": query.urlencode()}
    return render(request, "audit/audit_log.html", context)


def _cell(value: object) -> str:
    # Spreadsheet apps run cells that start like a formula; neutralise them.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=1000):
        yield writer.writerow(
            _cell(value)
            for value in (
                event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                event.actor_username,
                event.action,
                event.outcome,
                event.project_name,
                event.target_type,
                event.target_id,
                redact(event.target_repr),
                event.ip,
                redact(json.dumps(event.detail, sort_keys=True)),
            )
        )


@login_required
@require_GET
def team_audit_csv_view(request: HttpRequest, team_slug: str) -> StreamingHttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_MEMBERS)
    _, events = _filtered(access.team, request)
    response = StreamingHttpResponse(_rows(events), content_type="text/csv; charset=utf-8")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="qonadmin-audit-{access.team.slug}-{stamp}.csv"'
    return response
