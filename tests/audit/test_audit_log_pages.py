"""The audit log pages by keyset (Newer / Older) and streams its CSV, at any size."""

import csv
import html as html_lib
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import views
from audit.models import AuditEvent, Outcome
from audit.selectors import team_audit_events
from teams.models import Team
from tests.conftest import login

ROW = re.compile(r"<td>(ev\d+)</td>")


def log_url(team: Team, query: str = "") -> str:
    return reverse("team_audit", kwargs={"team_slug": team.slug}) + query


def csv_url(team: Team, query: str = "") -> str:
    return reverse("team_audit_csv", kwargs={"team_slug": team.slug}) + query


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]*)" rel="{rel}">', page)
    return html_lib.unescape(found.group(1)) if found else None


def shown(page: str) -> list[str]:
    return ROW.findall(page)


def fill(team: Team, owner: User, member: User, outsider: User, other_team: Team, count: int) -> None:
    """`count` events of the team and its members' sign-ins, three to an instant (ties on
    time are settled by id), interleaved with events the team must not see."""
    start = timezone.now() - timedelta(days=30)
    events = []
    for n in range(count):
        moment = start + timedelta(minutes=n // 3)
        kind = n % 5
        if kind == 3:  # a member's sign-in: no team
            events.append(AuditEvent(action="auth.sign_in", actor=member, actor_username=member.username))
        elif kind == 4:
            events.append(AuditEvent(action="integration.pause", actor=owner, actor_username=owner.username, team=team))
        else:
            events.append(AuditEvent(action="integration.create", actor=owner, actor_username="alice", team=team))
        events[-1].created_at = moment
        events[-1].outcome = Outcome.SUCCESS
        events[-1].target_repr = f"ev{n}"
    # Not ours: another team's event, an outsider's sign-in, a site-wide admin change.
    hidden = [
        AuditEvent(action="integration.create", actor=outsider, team=other_team, target_repr="hidden-team"),
        AuditEvent(action="auth.sign_in", actor=outsider, target_repr="hidden-sign-in"),
        AuditEvent(action="admin.change", actor=owner, target_repr="hidden-admin"),
    ]
    for event in hidden:
        event.created_at, event.outcome = start + timedelta(minutes=count // 6), Outcome.SUCCESS
    AuditEvent.objects.bulk_create(events + hidden)


def expected(team: Team) -> list[str]:
    return list(team_audit_events(team).order_by("-created_at", "-id").values_list("target_repr", flat=True))


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 7)


@pytest.mark.django_db
def test_older_then_newer_walk_every_event_once(
    team: Team, owner, member, outsider, other_team, owner_client: Client, small_pages
):
    fill(team, owner, member, outsider, other_team, 40)
    want = expected(team)
    assert len(want) == 40

    walked, pages, url = [], [], ""
    while url is not None:
        page = owner_client.get(log_url(team, url)).content.decode()
        pages.append(page)
        walked += shown(page)
        url = link(page, "next")
    assert walked == want  # newest first, no duplicates, no gaps, ties included
    assert len(pages) == 6 and link(pages[0], "prev") is None

    back = []
    page = pages[-1]
    while (newer := link(page, "prev")) is not None:
        page = owner_client.get(log_url(team, newer)).content.decode()
        back = shown(page) + back
    assert back + shown(pages[-1]) == want
    assert "hidden-" not in "".join(pages)


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["garbage", "", "a:b:c", "W10:1tX:bad", "%00"])
def test_a_bad_cursor_shows_the_first_page(
    team: Team, owner, member, outsider, other_team, owner_client: Client, small_pages, cursor: str
):
    fill(team, owner, member, outsider, other_team, 20)
    first = owner_client.get(log_url(team)).content.decode()
    response = owner_client.get(log_url(team, f"?cursor={cursor}"))
    assert response.status_code == 200
    assert shown(response.content.decode()) == shown(first) == expected(team)[:7]


@pytest.mark.django_db
def test_a_tampered_cursor_shows_the_first_page(
    team: Team, owner, member, outsider, other_team, owner_client: Client, small_pages
):
    fill(team, owner, member, outsider, other_team, 20)
    older = link(owner_client.get(log_url(team)).content.decode(), "next")
    assert older is not None
    token = older.split("cursor=", 1)[1]
    tampered = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    page = owner_client.get(log_url(team, f"?cursor={tampered}")).content.decode()
    assert shown(page) == expected(team)[:7]


@pytest.mark.django_db
def test_links_keep_the_filters(team: Team, owner, member, outsider, other_team, owner_client: Client, small_pages):
    fill(team, owner, member, outsider, other_team, 60)
    want = list(
        team_audit_events(team)
        .filter(action="integration.pause")
        .order_by("-created_at", "-id")
        .values_list("target_repr", flat=True)
    )
    walked, url = [], "?action=integration.pause"
    while url is not None:
        assert "action=integration.pause" in url
        page = owner_client.get(log_url(team, url)).content.decode()
        walked += shown(page)
        url = link(page, "next")
    assert walked == want and len(want) == 12


@pytest.mark.django_db
def test_personal_events_page_with_the_team_events_filtered_by_actor(
    team: Team, owner, member, outsider, other_team, owner_client: Client, small_pages
):
    fill(team, owner, member, outsider, other_team, 40)
    walked, url = [], f"?actor={member.username.upper()}"
    while url is not None:
        page = owner_client.get(log_url(team, url)).content.decode()
        walked += shown(page)
        url = link(page, "next")
    want = [r for r in expected(team) if int(r[2:]) % 5 == 3]
    assert walked == want and len(want) == 8


def audit_queries(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.django_db
def test_the_page_never_counts_and_its_query_count_stays_flat(
    team: Team, owner, member, outsider, other_team, owner_client: Client
):
    fill(team, owner, member, outsider, other_team, 10)
    small = audit_queries(owner_client, log_url(team))
    fill(team, owner, member, outsider, other_team, 490)
    large = audit_queries(owner_client, log_url(team))
    filtered = audit_queries(owner_client, log_url(team, "?action=auth.sign_in&since=2000-01-01"))
    assert len(small) == len(large)
    for sql in small + large + filtered:
        assert not ("COUNT(" in sql.upper() and "auditevent" in sql), sql
    older = link(owner_client.get(log_url(team)).content.decode(), "next")
    assert older is not None
    assert len(audit_queries(owner_client, log_url(team, older))) == len(large)


@pytest.mark.django_db
def test_the_csv_streams_every_row_in_order_across_chunks(
    team: Team, owner, member, outsider, other_team, owner_client: Client, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(views, "CSV_CHUNK", 4)  # many chunk edges, some inside a run of equal times
    fill(team, owner, member, outsider, other_team, 50)
    response = owner_client.get(csv_url(team))
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["target"] for row in rows] == expected(team)

    response = owner_client.get(csv_url(team, "?actor=bob"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["target"] for row in rows] == [r for r in expected(team) if int(r[2:]) % 5 == 3]


@pytest.mark.django_db
def test_another_teams_admin_sees_none_of_it(team: Team, owner, member, outsider, other_team, small_pages):
    fill(team, owner, member, outsider, other_team, 20)
    page = login(outsider).get(log_url(other_team)).content.decode()
    assert "hidden-team" in page and "hidden-sign-in" in page
    assert shown(page) == [] and "hidden-admin" not in page
    export = b"".join(login(outsider).get(csv_url(other_team)).streaming_content).decode()
    assert "ev1" not in export and "hidden-admin" not in export
