"""Read-side queries of the audit log, scoped to what the asking team may see.

A team's log is two kinds of events: the team's own (`team_id` is the team) and its
members' personal sign-in and account events (no team, actor a member, action with a
personal prefix). One query with an OR of the two cannot walk an index in time order, so
the log is read as separate index-friendly branches, each ordered by (created_at, id) and
limited, merged in Python:

- the team's own events: one range scan of an index that starts with `team_id` (plus the
  filtered column: action, actor name or project name) and goes on with time;
- personal events: one small ordered scan per (member, personal action) of the partial
  index on events without a team, sent together as one UNION ALL; when the log is filtered
  by actor, one scan of the actor-name index instead.

Pages and CSV chunks are cut by a keyset cursor (created_at, id), never by OFFSET, and
nothing counts the table. Facets (the action and project choices) are read with a
loose index scan: one index seek per distinct value, however many events there are.
"""

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Upper

from audit.models import AuditEvent
from teams.models import Membership, Team

# Events recorded without a team: a person's own sign-in and account events, which a
# team's admins see for their members, and site-wide ones (`admin.*`, changes made in
# Django admin), which no team sees. A deleted team's events keep its id, which the
# database never gives to another team; events of teams deleted while the old rule set
# their team to NULL have none, and the prefix list keeps them out of every log.
PERSONAL_ACTION_PREFIXES = ("auth.", "account.")
# Branches per UNION ALL statement (SQLite allows 500 terms in a compound SELECT).
BRANCHES_PER_QUERY = 100
TABLE = AuditEvent._meta.db_table


def team_audit_events(team: Team) -> QuerySet[AuditEvent]:
    """The team's events, plus its members' sign-in and account events.

    The reference definition of what a team sees; fine for small sets (admin, tests).
    The log page and the CSV read the same set through `team_audit_slice`, which uses
    the indexes."""
    members = Membership.objects.filter(team=team).values("user_id")
    personal = Q()
    for prefix in PERSONAL_ACTION_PREFIXES:
        personal |= Q(action__startswith=prefix)
    return AuditEvent.objects.filter(Q(team=team) | (Q(team__isnull=True, actor_id__in=members) & personal))


def is_personal_action(action: str) -> bool:
    return action.startswith(PERSONAL_ACTION_PREFIXES)


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    project: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Cursor:
    """A position in the log: the (created_at, id) of an event."""

    created_at: datetime
    id: int


@dataclass(frozen=True)
class TeamLogScope:
    """What a team's log reads besides its own events: members and their personal actions."""

    team: Team
    member_ids: tuple[int, ...]
    personal_actions: tuple[str, ...]


def _distinct(where: str, params: Sequence[Any], column: str, above: str | None = None) -> list[str]:
    """Distinct values of `column` among rows matching `where`, by a loose index scan:
    one seek per value on an index that starts with the `where` columns and `column`."""
    start = f" AND {column} > %s" if above is not None else ""
    # Only our own column names and WHERE templates are formatted in; values are parameters.
    sql = (
        f"WITH RECURSIVE d(v) AS ("  # noqa: S608
        f" SELECT (SELECT MIN({column}) FROM {TABLE} WHERE {where}{start})"
        f" UNION ALL"
        f" SELECT (SELECT MIN({column}) FROM {TABLE} WHERE {where} AND {column} > d.v) FROM d WHERE d.v IS NOT NULL"
        f") SELECT v FROM d WHERE v IS NOT NULL"
    )
    first: list[Any] = [*params, above] if above is not None else list(params)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*first, *params])
        return [row[0] for row in cursor.fetchall()]


def team_log_scope(team: Team) -> TeamLogScope:
    member_ids = tuple(Membership.objects.filter(team=team).order_by("user_id").values_list("user_id", flat=True))
    personal: list[str] = []
    if member_ids:
        candidates = [a for a in _distinct("team_id IS NULL", [], "action") if is_personal_action(a)]
        # Which of them the members did: one seek per (member, action) on the personal index.
        probes = [
            AuditEvent.objects.filter(team__isnull=True, actor_id__in=member_ids, action=action)
            .order_by()
            .values_list("action", flat=True)[:1]
            for action in candidates
        ]
        for start in range(0, len(probes), BRANCHES_PER_QUERY):
            sql, params = _compound(probes[start : start + BRANCHES_PER_QUERY])
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                personal.extend(row[0] for row in cursor.fetchall())
        personal.sort()
    return TeamLogScope(team=team, member_ids=member_ids, personal_actions=tuple(personal))


def team_log_facets(scope: TeamLogScope) -> tuple[list[str], list[str]]:
    """The actions and the (non-empty) project names found in the team's log."""
    actions = set(_distinct("team_id = %s", [scope.team.pk], "action")) | set(scope.personal_actions)
    projects = _distinct("team_id = %s", [scope.team.pk], "project_name", above="")
    return sorted(actions), projects


def _apply_filters(events: QuerySet[AuditEvent], filters: AuditFilters) -> QuerySet[AuditEvent]:
    if filters.actor:
        events = events.alias(actor_key=Upper("actor_username")).filter(actor_key=Upper(Value(filters.actor)))
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.project:
        events = events.filter(project_name=filters.project)
    if filters.since is not None:
        events = events.filter(created_at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(created_at__lte=filters.until)
    return events


def _ordered(events: QuerySet[AuditEvent], cursor: Cursor | None, newer: bool) -> QuerySet[AuditEvent]:
    """Events beyond the cursor, nearest first. The plain range on created_at lets the
    index seek; the OR only settles ties on the same instant."""
    if cursor is not None:
        if newer:
            events = events.filter(created_at__gte=cursor.created_at).filter(
                Q(created_at__gt=cursor.created_at) | Q(id__gt=cursor.id)
            )
        else:
            events = events.filter(created_at__lte=cursor.created_at).filter(
                Q(created_at__lt=cursor.created_at) | Q(id__lt=cursor.id)
            )
    return events.order_by(*(("created_at", "id") if newer else ("-created_at", "-id")))


def _key(event: AuditEvent) -> tuple[datetime, int]:
    return (event.created_at, event.pk)


def team_audit_slice(
    scope: TeamLogScope,
    filters: AuditFilters,
    *,
    cursor: Cursor | None = None,
    newer: bool = False,
    limit: int,
) -> list[AuditEvent]:
    """Up to `limit` events of the team's log beyond `cursor`: older ones newest first,
    or (`newer`) newer ones oldest first."""
    base = AuditEvent.objects.all()
    team_events = list(_ordered(_apply_filters(base.filter(team=scope.team), filters), cursor, newer)[:limit])
    personal = _personal_events(scope, filters, cursor=cursor, newer=newer, limit=limit, team_events=team_events)
    if not personal:
        return team_events
    merged = heapq.merge(team_events, personal, key=_key, reverse=not newer)
    return list(islice(merged, limit))


def _personal_events(
    scope: TeamLogScope,
    filters: AuditFilters,
    *,
    cursor: Cursor | None,
    newer: bool,
    limit: int,
    team_events: list[AuditEvent],
) -> list[AuditEvent]:
    actions = scope.personal_actions
    if filters.action:
        actions = tuple(a for a in actions if a == filters.action)
    # Personal events never name a project: `record()` gives an event with a project that
    # project's team, and sign-in and account events have neither.
    if not scope.member_ids or not actions or filters.project:
        return []
    events = _apply_filters(AuditEvent.objects.filter(team__isnull=True), filters)
    if len(team_events) == limit:
        # The team's own events fill the page: only personal ones within their span can join.
        edge = team_events[-1].created_at
        events = events.filter(created_at__lte=edge) if newer else events.filter(created_at__gte=edge)
    if filters.actor:
        # One name, one ordered scan of the actor-name index.
        branch = events.filter(actor_id__in=scope.member_ids, action__in=actions)
        return list(_ordered(branch, cursor, newer)[:limit])
    branches = [
        _ordered(events.filter(actor_id=member, action=action), cursor, newer)[:limit]
        for member in scope.member_ids
        for action in actions
    ]
    found: list[AuditEvent] = []
    for start in range(0, len(branches), BRANCHES_PER_QUERY):
        rows = _union_all(branches[start : start + BRANCHES_PER_QUERY], newer, limit)
        found = list(islice(heapq.merge(found, rows, key=_key, reverse=not newer), limit))
    return found


def _compound(branches: Sequence[QuerySet[Any]]) -> tuple[str, list[Any]]:
    """UNION ALL of ordered, limited queries. Django refuses LIMIT inside a compound on
    SQLite, so each branch goes into a derived table, which both databases accept."""
    parts: list[str] = []
    params: list[Any] = []
    for number, branch in enumerate(branches):
        sql, branch_params = branch.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS b{number}")  # noqa: S608 - SQL Django compiled, values as params
        params.extend(branch_params)
    return " UNION ALL ".join(parts), params


def _union_all(branches: Sequence[QuerySet[AuditEvent]], newer: bool, limit: int) -> list[AuditEvent]:
    sql, params = _compound(branches)
    direction = "ASC" if newer else "DESC"
    sql = f"{sql} ORDER BY created_at {direction}, id {direction} LIMIT {int(limit)}"
    return list(AuditEvent.objects.raw(sql, params))


def iter_team_audit(scope: TeamLogScope, filters: AuditFilters, chunk: int = 2000) -> Iterator[AuditEvent]:
    """Every event of the team's log, newest first, read in keyset chunks: memory stays
    at one chunk however long the log is."""
    cursor: Cursor | None = None
    while True:
        events = team_audit_slice(scope, filters, cursor=cursor, limit=chunk)
        yield from events
        if len(events) < chunk:
            return
        last = events[-1]
        cursor = Cursor(last.created_at, last.pk)
