"""The audit log at any size: `python -m bench.audit_size [--sizes 1000,1000000] [--repeat 7]`.

Fills a throwaway test database with audit events (several teams, actions, actors and
projects over a year; one team holds most of them, so its CSV export is most of the
table), then measures with the Django test client, signed in as that team's owner: the
first page, filtered pages, an "Older" page deep in the list, and the full CSV export
(time, and peak Python allocation with tracemalloc) streamed to a sink. Prints medians
and the largest/smallest ratio. SQLite by default; DATABASE_URL=postgres://... for PostgreSQL.
Not a test: nothing here passes or fails.
"""

import argparse
import json
import os
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qonadmin.test_settings")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from audit.models import AuditEvent  # noqa: E402
from audit.views import _sign_cursor  # noqa: E402
from teams.models import Membership, Project, Role, Team  # noqa: E402

TEAMS = 5
USERS = 40
TEAM_WEIGHTS = [0.85, 0.05, 0.04, 0.03, 0.03]
PERSONAL_SHARE = 0.08  # sign-ins and account events, recorded without a team
TEAM_ACTIONS = [
    "integration.create",
    "integration.update",
    "integration.pause",
    "integration.activate",
    "integration.delete",
    "project.create",
    "project.key_replaced",
    "member.invited",
    "member.role_changed",
    "alert.channel_created",
]
PERSONAL_ACTIONS = ["auth.sign_in", "auth.sign_in", "auth.sign_in", "auth.sign_out", "account.password_changed"]
NOW = datetime(2026, 11, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
COLUMNS = (
    "created_at, actor_id, actor_username, team_id, team_name, project_id, project_name, action,"
    " target_type, target_id, target_repr, outcome, detail, ip"
)


class World:
    def __init__(self) -> None:
        unusable = "!"  # what Django stores for a user who cannot sign in with a password
        self.users = User.objects.bulk_create([User(username=f"user{n:02d}", password=unusable) for n in range(USERS)])
        self.teams = [Team.objects.create(name=f"Team {n}", slug=f"team-{n}") for n in range(TEAMS)]
        self.members: list[list[User]] = []
        self.projects: list[list[Project]] = []
        for number, team in enumerate(self.teams):
            people = self.users[number * 8 : number * 8 + 10]  # 10 members, two shared with the next team
            Membership.objects.bulk_create(
                Membership(team=team, user=user, role=Role.OWNER if i == 0 else Role.ADMIN)
                for i, user in enumerate(people)
            )
            self.members.append(people)
            self.projects.append(
                [Project.objects.create(team=team, name=f"{team.name} {kind}") for kind in ("iOS", "Android", "Web")]
            )
        self.inserted = 0
        self.random = random.Random(7)  # noqa: S311 - reproducible test data, not secrets

    def fill(self, count: int) -> None:
        """Add `count` events spread over the year before NOW, in one transaction."""
        rnd = self.random
        postgres = connection.vendor == "postgresql"
        rows: list[tuple[Any, ...]] = []
        for _ in range(count):
            moment = NOW - YEAR * rnd.random()
            stamp = moment if postgres else moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            if rnd.random() < PERSONAL_SHARE:
                user = rnd.choice(self.users)
                action = rnd.choice(PERSONAL_ACTIONS)
                rows.append(
                    (stamp, user.pk, user.username, None, "", None, "", action, "", "", "", "success", "{}", "10.0.0.1")
                )
                continue
            number = rnd.choices(range(TEAMS), TEAM_WEIGHTS)[0]
            team, user = self.teams[number], rnd.choice(self.members[number])
            project = rnd.choice(self.projects[number]) if rnd.random() < 0.8 else None
            rows.append(
                (
                    stamp,
                    user.pk,
                    user.username,
                    team.pk,
                    team.name,
                    project.pk if project else None,
                    project.name if project else "",
                    rnd.choice(TEAM_ACTIONS),
                    "integration",
                    str(rnd.randrange(10_000)),
                    f"Amplitude {rnd.randrange(100)}",
                    "success" if rnd.random() < 0.9 else "failure",
                    json.dumps({"upstream": {"status": 200}}),
                    None,
                )
            )
        marks = ", ".join(["%s"] * 14)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {AuditEvent._meta.db_table} ({COLUMNS}) VALUES ({marks})", rows)  # noqa: S608
        self.inserted += count
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {AuditEvent._meta.db_table}")


def median_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # warm
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def count_queries(action: Callable[[], object]) -> list[str]:
    seen: list[str] = []

    def record(execute: Callable[..., object], sql: str, *rest: object) -> object:
        seen.append(sql)
        return execute(sql, *rest)

    with connection.execute_wrapper(record):
        action()
    return seen


def get_ok(client: Client, url: str) -> Callable[[], object]:
    def run() -> object:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.content

    return run


def export(client: Client, url: str) -> Callable[[], int]:
    def run() -> int:
        response: Any = client.get(url)
        assert response.status_code == 200
        assert response.streaming
        rows = 0
        pieces: Iterable[bytes] = response.streaming_content
        for piece in pieces:  # the sink: counted, not kept
            rows += piece.count(b"\n")
        return rows - 1

    return run


def measure(world: World, repeat: int, csv_repeat: int) -> dict[str, float]:
    owner, team = world.members[0][0], world.teams[0]
    client = Client()
    client.force_login(owner)
    page = reverse("team_audit", kwargs={"team_slug": team.slug})
    middle = NOW - YEAR / 2
    deep = AuditEvent(created_at=middle, id=10**12)
    cases = {
        "first page": page,
        "filter: action": page + "?action=integration.pause",
        "filter: actor": page + "?actor=" + world.members[0][3].username.upper(),
        "filter: project": page + "?" + urlencode({"project": world.projects[0][1].name}),
        "filter: 7-day range": page
        + f"?since={(middle - timedelta(days=7)).date().isoformat()}&until={middle.date().isoformat()}",
        "older, mid-year": page + "?" + urlencode({"cursor": _sign_cursor(deep, newer=False)}),
    }
    figures: dict[str, float] = {}
    for name, url in cases.items():
        figures[name] = median_ms(get_ok(client, url), repeat)
        queries = count_queries(get_ok(client, url))
        assert not any("COUNT(" in sql.upper() and "auditevent" in sql for sql in queries), name
        figures[f"{name} (queries)"] = len(queries)
        print(f"  {name:<22} {figures[name]:8.1f} ms   {len(queries)} queries", flush=True)
    csv_url = reverse("team_audit_csv", kwargs={"team_slug": team.slug})
    runs, rows = [], 0
    for _ in range(csv_repeat):
        start = time.perf_counter()
        rows = export(client, csv_url)()
        runs.append((time.perf_counter() - start) * 1000)
    figures["csv export"] = statistics.median(runs)
    tracemalloc.start()
    export(client, csv_url)()
    figures["csv peak KiB"] = tracemalloc.get_traced_memory()[1] / 1024
    tracemalloc.stop()
    figures["csv rows"] = rows
    print(
        f"  {'csv export':<22} {figures['csv export']:8.1f} ms   {rows} rows, peak {figures['csv peak KiB']:.0f} KiB",
        flush=True,
    )
    return figures


def explain(world: World) -> None:
    """The plans of the first page's queries (SQLite: EXPLAIN QUERY PLAN)."""
    if connection.vendor != "sqlite":
        return
    client = Client()
    client.force_login(world.members[0][0])
    url = reverse("team_audit", kwargs={"team_slug": world.teams[0].slug}) + "?action=auth.sign_in"
    seen: list[tuple[str, Any]] = []

    def record(execute: Callable[..., object], sql: str, params: Any, *rest: object) -> object:
        seen.append((sql, params))
        return execute(sql, params, *rest)

    with connection.execute_wrapper(record):
        get_ok(client, url)()
    for sql, params in seen:
        if "integrations_auditevent" not in sql:
            continue
        print("  " + sql[:120].replace("\n", " "))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            for row in cursor.fetchall():
                print(f"    {row[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--csv-repeat", type=int, default=3)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        world = World()
        results: dict[int, dict[str, float]] = {}
        for size in sizes:
            start = time.perf_counter()
            world.fill(size - world.inserted)
            print(f"{size:,} events ({connection.vendor}, filled in {time.perf_counter() - start:.1f} s):", flush=True)
            results[size] = measure(world, args.repeat, args.csv_repeat if size < 100_000 else 1)
            if args.explain:
                explain(world)
        small, large = results[sizes[0]], results[sizes[-1]]
        print(f"\nratio {sizes[-1]:,} / {sizes[0]:,}:")
        for name in small:
            if name.endswith("(queries)") or name == "csv rows":
                continue
            print(f"  {name:<22} {large[name] / small[name]:8.2f}x")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
