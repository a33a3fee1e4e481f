"""The project page against Django admin, and the team page, at two sizes (about 3 minutes).

`python -m bench.page_size [--rounds 5] [--requests 40]`

Starts a throwaway stack as `bench.load_under_faults` does (gunicorn with gunicorn.conf.py,
production settings, a temporary SQLite database; no sandbox: no page here calls
Qonversion), inserts mirror rows directly — one project with 50 integrations, one with
1,000, each with some health history; a team with 2 projects × 25 integrations and one
with 200 × 25 — and signs in a superuser who owns every team. Then, in interleaved
rounds, it requests each page `--requests` times in a row and reads the CPU time
(utime + stime, /proc/<pid>/stat) of gunicorn's worker processes before and after:
CPU per request, the figure that decides how many requests the 2 cores can answer.
Also printed: requests per second of this one sequential client.

The admin changelist is `/admin/integrations/integration/?project__id__exact=<pk>`, 100 a
page (`list_per_page`), the same as the project page. Not a test: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.loadlib import JSON_MARKER, Stack

TICKS = os.sysconf("SC_CLK_TCK")

SEED = f"""
import json
from datetime import timedelta
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from integrations.models import Integration, IntegrationChange, Status
from teams.models import Membership, Project, Role, Team

now = timezone.now()
user = User.objects.create_superuser("bench", "bench@example.com", "bench-password-not-used")
STATUSES = list(Status)

def project(team, name, count):
    p = Project(team=team, name=name)
    p.set_secret_key("sk_bench_" + name.replace(" ", "_"))
    p.save()
    Integration.objects.bulk_create(
        Integration(
            project=p, qonversion_id=f"{{p.pk}}-{{n}}", title=f"{{name}} integration {{n:05d}}",
            provider_name=("Amplitude", "AppsFlyer", "Slack", "Webhooks")[n % 4],
            platform=("iOS", "Android", "Stripe")[n % 3],
            status=STATUSES[n % 3], delivery_error_count=n % 7,
            last_error_message="401 from endpoint: bad key" if STATUSES[n % 3] == Status.ERROR else "",
            last_error_at=now - timedelta(minutes=n % 90) if STATUSES[n % 3] == Status.ERROR else None,
            last_delivery_at=now - timedelta(minutes=n % 50) if n % 2 else None,
            upstream_created_at=now, upstream_updated_at=now,
        )
        for n in range(count)
    )
    # Some history: every fifth integration broke 5 h ago and failed more since.
    IntegrationChange.objects.bulk_create(
        IntegrationChange(
            integration=i, at=now - timedelta(hours=h), status=s, previous_status=b, delivery_error_count=e,
            errors_added=a,
        )
        for i in Integration.objects.filter(project=p)[::5]
        for h, b, s, e, a in (
            (30, "", Status.ACTIVE, 0, 0), (5, Status.ACTIVE, Status.ERROR, 4, 4), (1, Status.ERROR, Status.ERROR, 9, 5)
        )
    )
    Project.objects.filter(pk=p.pk).update(synced_at=now + timedelta(days=1))  # fresh for the whole run
    return p.pk

def team(slug, projects, each):
    t = Team.objects.create(name=slug, slug=slug)
    Membership.objects.create(team=t, user=user, role=Role.OWNER)
    return t, [project(t, f"{{slug}} {{k}}", each) for k in range(projects)]

pages, _ = team("pages", 0, 0)
project_ids = {{"50": project(pages, "fifty", 50), "1000": project(pages, "thousand", 1000)}}
team("two", 2, 25)
team("many", 200, 25)
client = Client()
client.force_login(user)
print("{JSON_MARKER}" + json.dumps({{"projects": project_ids, "cookie": client.cookies["sessionid"].value}}))
"""


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:  # field 4, ppid
                pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40, help="requests per page and round")
    args = parser.parse_args()

    stack = Stack()
    try:
        started = time.monotonic()
        stack.manage("migrate", "--noinput")
        stack.manage("collectstatic", "--noinput", "-v", "0")
        seeded = stack.shell_json(SEED)
        print(f"seeded in {time.monotonic() - started:.0f} s")
        stack.start_gunicorn()
        master = stack.processes["gunicorn"].pid
        measure(stack.app_url, master, seeded, args.rounds, args.requests)
    finally:
        stack.stop()


def measure(root: str, master: int, seeded: dict, rounds: int, count: int) -> None:
    p50, p1000 = seeded["projects"]["50"], seeded["projects"]["1000"]
    targets = {
        "page 50": f"/projects/{p50}/",
        "admin 50": f"/admin/integrations/integration/?project__id__exact={p50}",
        "page 1000": f"/projects/{p1000}/",
        "page 1000, page 5": f"/projects/{p1000}/?page=5",
        "admin 1000": f"/admin/integrations/integration/?project__id__exact={p1000}",
        "team 2 projects": "/teams/two/",
        "team 200 projects": "/teams/many/",
    }
    http = requests.Session()
    http.cookies.set("sessionid", seeded["cookie"])
    for what, path in targets.items():  # warm up, and check each page answers in full
        response = http.get(root + path, timeout=30, allow_redirects=False)
        if response.status_code != 200:
            raise SystemExit(f"{what}: {path} answered {response.status_code}")
        rows = response.text.count('<tr id="integration-') or response.text.count('class="field-title"')
        print(f"{what:20} {path:60} {len(response.content) / 1024:6.0f} KiB, {rows} rows")
    pids = worker_pids(master)
    cpu: dict[str, list[float]] = defaultdict(list)
    rate: dict[str, list[float]] = defaultdict(list)
    for round_number in range(rounds):
        order = list(targets.items())
        if round_number % 2:
            order.reverse()  # neither side always runs first
        for what, path in order:
            before, clock = cpu_seconds(pids), time.perf_counter()
            for _ in range(count):
                http.get(root + path, timeout=30).raise_for_status()
            elapsed = time.perf_counter() - clock
            cpu[what].append((cpu_seconds(pids) - before) / count * 1000)
            rate[what].append(count / elapsed)
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}; {rounds} interleaved rounds × {count} requests a page"
    )
    print(f"{'page':20} {'CPU ms/request (median; rounds)':50} {'req/s':>7} {'capacity req/s':>15}")
    median = {what: statistics.median(values) for what, values in cpu.items()}
    for what in targets:
        rounds_text = ", ".join(f"{value:.1f}" for value in cpu[what])
        capacity = (os.cpu_count() or 1) * 1000 / median[what] if median[what] else float("inf")
        print(f"{what:20} {median[what]:6.1f} ({rounds_text})"[:71].ljust(71), end="")
        print(f"{statistics.median(rate[what]):7.1f} {capacity:15.0f}")
    print()
    ratios = (
        ("page / admin at 50", median["page 50"] / median["admin 50"], 0.5),
        ("page / admin at 1000", median["page 1000"] / median["admin 1000"], 0.5),
        ("page 5 / admin at 1000", median["page 1000, page 5"] / median["admin 1000"], 0.5),
        ("page 1000 / page 50", median["page 1000"] / median["page 50"], 1.5),
        ("team 200 projects / 2 projects", median["team 200 projects"] / median["team 2 projects"], 2.0),
    )
    for name, ratio, goal in ratios:
        print(f"{name:32} ×{ratio:.2f}  goal ≤ ×{goal:g}: {'met' if ratio <= goal else 'NOT met'}")


if __name__ == "__main__":
    main()
