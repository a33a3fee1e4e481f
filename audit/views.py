"""The team's audit log: browse with filters, export as CSV (admins and owners)."""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.forms import AuditFilterForm
from audit.models import AuditEvent
from audit.selectors import (
    AuditFilters,
    Cursor,
    TeamLogScope,
    iter_team_audit,
    team_audit_slice,
    team_log_facets,
    team_log_scope,
)
from qonadmin.redaction import redact
from teams.access import Action, get_team_for_user
from teams.models import Team

PAGE_SIZE = 50
CSV_CHUNK = 2000
CURSOR_SALT = "audit.log.cursor"
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


def _filtered(team: Team, request: HttpRequest) -> tuple[AuditFilterForm, TeamLogScope, AuditFilters]:
    scope = team_log_scope(team)
    actions, projects = team_log_facets(scope)
    form = AuditFilterForm(request.GET or None, actions=actions, projects=projects)
    filters = AuditFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = AuditFilters(
            actor=data["actor"] or "",
            action=data["action"] or "",
            project=data["project"] or "",
            since=datetime.combine(data["since"], time.min, tzinfo=UTC) if data["since"] else None,
            until=datetime.combine(data["until"], time.max, tzinfo=UTC) if data["until"] else None,
        )
    return form, scope, filters


def _sign_cursor(event: AuditEvent, newer: bool) -> str:
    """An opaque, signed position: which way to read, and the event's (created_at, id)."""
    stamp = event.created_at.astimezone(UTC).isoformat()
    return signing.dumps(["n" if newer else "o", stamp, event.pk], salt=CURSOR_SALT, compress=True)


def _read_cursor(token: str | None) -> tuple[Cursor | None, bool]:
    """The cursor a Newer/Older link carries; anything not signed by us is the first page."""
    if not token:
        return None, False
    try:
        direction, stamp, pk = signing.loads(token, salt=CURSOR_SALT)
        moment = datetime.fromisoformat(stamp)
        if direction not in ("n", "o") or not isinstance(pk, int) or moment.tzinfo is None:
            return None, False
    except (signing.BadSignature, ValueError, TypeError):
        return None, False
    return Cursor(moment, pk), direction == "n"


@login_required
@require_GET
def team_audit_view(request: HttpRequest, team_slug: str) -> HttpResponse:
    access = get_team_for_user(request.user, team_slug, Action.MANAGE_MEMBERS)
    form, scope, filters = _filtered(access.team, request)
    cursor, newer = _read_cursor(request.GET.get("cursor"))
    # One event more than a page tells whether there is more in the direction of travel;
    # coming from a page, there is always more in the other direction.
    events = team_audit_slice(scope, filters, cursor=cursor, newer=newer, limit=PAGE_SIZE + 1)
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    if newer:
        events.reverse()
        has_newer, has_older = more, True
    else:
        has_newer, has_older = cursor is not None, more
    if not events:
        has_newer = has_older = False
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("page", None)
    base = query.urlencode()

    def link(token: str) -> str:
        return "?" + (base + "&" if base else "") + urlencode({"cursor": token})

    context = {
        "team": access.team,
        "access": access,
        "form": form,
        "events": events,
        "newer_url": link(_sign_cursor(events[0], newer=True)) if has_newer else "",
        "older_url": link(_sign_cursor(events[-1], newer=False)) if has_older else "",
        "first_url": "?" + base if cursor is not None else "",
        "query": base,
        "page_size": PAGE_SIZE,
    }
    return render(request, "audit/audit_log.html", context)


def _cell(value: object) -> str:
    # Spreadsheet apps run cells that start like a formula; neutralise them.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events:
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
    _, scope, filters = _filtered(access.team, request)
    # Keyset chunks, streamed as they are read: memory stays at one chunk for any size.
    events = iter_team_audit(scope, filters, chunk=CSV_CHUNK)
    response = StreamingHttpResponse(_rows(events), content_type="text/csv; charset=utf-8")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="qonadmin-audit-{access.team.slug}-{stamp}.csv"'
    return response
