"""Load under upstream faults: `python -m bench.load_under_faults [--seconds 60] [--users 20]`.

Starts a throwaway stack (the sandbox, a fresh SQLite database with the demo data, and
gunicorn as `make run` serves it), signs in N users through the login form and lets them
click around concurrently: the team page, a project page (with the refresh it asks for
when its mirror is stale), "Refresh" and creating integrations through the HTMX form.
Phase A runs without faults; in phase B the sandbox answers a share of the /v4 requests
with a 5xx and delays another share beyond qonadmin's read timeout. Afterwards the
faults are cleared, every project is refreshed, and the mirror is compared with what
the sandbox holds. Prints the figures (`--write-readme` also puts them into
bench/README.md). Not a test: nothing here passes or fails, but the goals are named.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import sqlite3
import textwrap
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench.loadlib import (
    JSON_MARKER,
    ROOT,
    LoadUser,
    Phase,
    Record,
    SandboxControlClient,
    SignInError,
    Stack,
    StackError,
    percentile,
    summarize,
)

README = ROOT / "bench" / "README.md"
SECTION = "## Load under upstream faults"
TEAM = "acme"
READ_TIMEOUT = 10.0  # QONVERSION_READ_TIMEOUT's default, which the stack keeps
SLOW_SECONDS = 5.0  # a request this slow waited on Qonversion, holding a gunicorn thread

# Members of the demo team for the load (each user signs in once, so no throttling).
CREATE_USERS = """
import json
from django.contrib.auth import get_user_model
from teams.models import Membership, Project, Role, Team

team = Team.objects.get(slug={team!r})
for number in range(1, {count} + 1):
    user, _ = get_user_model().objects.get_or_create(username=f"load{{number:02d}}")
    user.set_password({password!r})
    user.save()
    Membership.objects.get_or_create(team=team, user=user, defaults={{"role": Role.MEMBER}})
projects = [{{"id": p.pk, "name": p.name}} for p in Project.objects.filter(team=team).order_by("pk")]
print({marker!r} + json.dumps({{"projects": projects}}))
"""

# One refresh of every project, then the mirror as the pages see it (rows not deleted).
# A project whose circuit breaker opened under the faults gets "Try now" first, as an
# operator would press it once Qonversion is back.
SYNC_AND_DUMP = """
import json
from integrations import breaker
from demo.management.commands.seed_demo import PROJECT_KEYS
from integrations.models import Integration
from teams.models import Project
from integrations.sync import project_sync
from integrations.qonversion import WIRE_STATUS
WIRE_NUMBER = {{name: number for number, name in WIRE_STATUS.items()}}

out = []
for project in Project.objects.select_related("team").order_by("pk"):
    error = ""
    try:
        breaker.try_now(project)
        project_sync(project=project)
    except Exception as exc:
        error = f"{{type(exc).__name__}}: {{exc}}"
    rows = Integration.objects.filter(project=project, deleted_at__isnull=True)
    out.append({{
        "id": project.pk,
        "name": project.name,
        "key": PROJECT_KEYS.get((project.team.slug, project.name), ""),
        "sync_error": error,
        # The mirror's status by name, as the wire's number the sandbox lists.
        "rows": [
            {{"qonversion_id": qid, "title": title, "active": WIRE_NUMBER[status]}}
            for qid, title, status in rows.values_list("qonversion_id", "title", "status")
        ],
    }})
print({marker!r} + json.dumps(out))
"""


# ---- faults --------------------------------------------------------------------------


@dataclass
class FaultPlan:
    error_rate: float
    delay_rate: float
    delay: float
    status: int = 503


@dataclass
class FaultInjector:
    """Puts the plan into the sandbox: with its `rate` field if it has one, else by queueing."""

    control: SandboxControlClient
    plan: FaultPlan
    mode: str = ""  # "rate" or "queue"
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    queued: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)  # queue mode: /v4 answers, by status

    def detect(self) -> str:
        """Whether the sandbox takes `rate` (a fault kept queued, applied to a share of requests)."""
        try:
            probe = self.control.add_fault(status=503, rate=0.5, times=0, path_prefix="/v4/__rate_probe__")
        except StackError:
            probe = {}
        finally:
            self.control.clear_faults()
        self.mode = "rate" if probe.get("rate") == 0.5 and probe.get("times") == 0 else "queue"
        return self.mode

    def start(self) -> None:
        self.control.clear_requests_log()
        if self.mode == "rate":
            # The queue offers a request to the faults in order; a missed draw passes it on,
            # so the second fault's rate is taken of the requests the first one let through.
            self.control.add_fault(status=self.plan.status, rate=self.plan.error_rate, times=0, seed=1)
            delay_share = self.plan.delay_rate / (1 - self.plan.error_rate)
            self.control.add_fault(delay=self.plan.delay, rate=round(delay_share, 6), times=0, seed=2)
            return
        self.thread = threading.Thread(target=self._queue_loop, name="fault-control", daemon=True)
        self.thread.start()

    def _queue_loop(self) -> None:
        """Fallback: for every /v4 request seen, queue a single-shot fault with the plan's odds."""
        rng = random.Random(7)  # noqa: S311 - a reproducible simulation
        while not self.stop_event.wait(0.5):
            try:
                log = self.control.requests_log()
                self.control.clear_requests_log()
                for entry in log:
                    if not str(entry.get("path", "")).startswith("/v4"):
                        continue
                    self.seen[str(entry.get("status"))] += 1
                    draw = rng.random()
                    if draw < self.plan.error_rate:
                        self.control.add_fault(status=self.plan.status)
                        self.queued["status"] += 1
                    elif draw < self.plan.error_rate + self.plan.delay_rate:
                        self.control.add_fault(delay=self.plan.delay)
                        self.queued["delay"] += 1
            except StackError as error:
                print(f"fault control: {error}")

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.control.clear_faults()

    def answers(self) -> dict[str, Any]:
        """What the sandbox answered to /v4 from the start of the faults (read after the drain)."""
        seen = Counter(self.seen)
        if self.mode == "rate":
            seen.update(str(e.get("status")) for e in self.control.requests_log() if e["path"].startswith("/v4"))
        return {"mode": self.mode, "v4_answers": dict(sorted(seen.items())), "queued": dict(self.queued)}


# ---- the run -------------------------------------------------------------------------


def run_phase(
    users: list[LoadUser], name: str, seconds: float, t0: float, stop: threading.Event
) -> tuple[Phase, list[threading.Thread]]:
    phase = Phase(name=name, t0=t0, deadline=time.monotonic() + seconds, max_actions=int(seconds * 10) + 10)

    def loop(user: LoadUser) -> None:
        try:
            user.run(phase, stop)
        except Exception as error:  # a bug in the harness must not pass silently
            print(f"{user.username}: load loop failed: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=loop, args=(u,), name=f"{name}-{u.username}", daemon=True) for u in users]
    for thread in threads:
        thread.start()
    return phase, threads


def wait_for(threads: list[threading.Thread], until: float) -> int:
    """Join until the monotonic time `until`; the number still running."""
    for thread in threads:
        thread.join(max(0.0, until - time.monotonic()))
    return sum(thread.is_alive() for thread in threads)


def sign_in_all(users: list[LoadUser]) -> None:
    failures: list[str] = []

    def sign_in(user: LoadUser) -> None:
        try:
            user.sign_in()
        except SignInError as error:
            failures.append(str(error))

    for start in range(0, len(users), 4):  # a few at a time: Argon2 is slow on purpose
        batch = [threading.Thread(target=sign_in, args=(u,)) for u in users[start : start + 4]]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
    if failures:
        raise SignInError("; ".join(failures))


def compare(control: SandboxControlClient, mirror: list[dict[str, Any]], records: list[Record]) -> dict[str, Any]:
    """Mirror vs upstream per project, and what became of every create the load sent."""
    projects = []
    upstream_titles: Counter[str] = Counter()
    for project in mirror:
        upstream = {item["id"]: item for item in control.list_integrations(project["key"])}
        upstream_titles.update(item["title"] for item in upstream.values())
        rows = {row["qonversion_id"]: row for row in project["rows"]}
        both = sorted(upstream.keys() & rows.keys())
        differences = [
            f"{qid}: upstream {upstream[qid]['title']!r}/active {upstream[qid]['active']}, "
            f"mirror {rows[qid]['title']!r}/active {rows[qid]['active']}"
            for qid in both
            if (upstream[qid]["title"], upstream[qid]["active"]) != (rows[qid]["title"], rows[qid]["active"])
        ]
        differences += [
            f"{qid}: only upstream ({upstream[qid]['title']!r})" for qid in sorted(upstream.keys() - rows.keys())
        ]
        differences += [
            f"{qid}: only in the mirror ({rows[qid]['title']!r})" for qid in sorted(rows.keys() - upstream.keys())
        ]
        projects.append(
            {
                "name": project["name"],
                "upstream": len(upstream),
                "mirror": len(rows),
                "sync_error": project["sync_error"],
                "differences": differences,
            }
        )

    answers: dict[str, list[str]] = {}
    for record in records:
        if record.kind == "create" and record.title:
            answers.setdefault(record.title, []).append(record.outcome)
    duplicates = {title: upstream_titles[title] for title in answers if upstream_titles[title] > 1}
    created_missing = [t for t, said in answers.items() if "created" in said and not upstream_titles[t]]
    # "Nothing was created" (every answer an error) while the integration exists upstream.
    denied_but_exists = [
        t for t, said in answers.items() if all(s in ("error", "invalid") for s in said) and upstream_titles[t]
    ]
    final = Counter(said[-1] for said in answers.values())
    exists_by_final = Counter(said[-1] for t, said in answers.items() if upstream_titles[t])
    return {
        "projects": projects,
        "exact": all(not p["differences"] and not p["sync_error"] for p in projects),
        "creates": {
            "titles": len(answers),
            "final_answers": dict(final.most_common()),
            "exist_upstream_by_final_answer": dict(exists_by_final.most_common()),
            "duplicates": duplicates,
            "created_but_missing": created_missing,
            "said_nothing_created_but_exists": denied_but_exists,
        },
    }


def team_by_slow_in_flight(records: list[Record], threads_per_worker: int = 4) -> dict[str, float]:
    """Team page p95 in B, split by how many slow (≥ SLOW_SECONDS) requests were in flight at its start."""
    slow = [
        (r.started, r.started + r.latency_ms / 1000)
        for r in records
        if r.phase == "B" and r.latency_ms >= SLOW_SECONDS * 1000
    ]
    split: dict[str, list[float]] = {"fewer": [], "more": []}
    for r in records:
        if r.phase == "B" and r.kind == "team":
            in_flight = sum(start <= r.started <= end for start, end in slow)
            split["more" if in_flight >= threads_per_worker else "fewer"].append(r.latency_ms)
    return {
        f"fewer than {threads_per_worker}": round(percentile(sorted(split["fewer"]), 0.95), 1),
        f"{threads_per_worker} or more": round(percentile(sorted(split["more"]), 0.95), 1),
        "requests with 4 or more": len(split["more"]),
    }


def log_excerpts(stack: Stack) -> list[str]:
    """Error lines (with the first lines of their tracebacks) from gunicorn's error log."""
    path = stack.log_path("gunicorn")
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    excerpts: list[str] = []
    for number, line in enumerate(lines):
        if re.search(r"\b(ERROR|CRITICAL|Traceback|WORKER TIMEOUT)\b", line):
            block = [line, *lines[number + 1 : number + 4]]
            excerpts.append("\n".join(block)[:800])
    return excerpts


def run(args: argparse.Namespace, stack: Stack, stop: threading.Event) -> dict[str, Any]:
    started_at = datetime.now(UTC)
    print(f"Throwaway stack in {stack.workdir}")
    stack.start_sandbox(seed=42)
    control = SandboxControlClient(stack.sandbox_url)
    stack.manage("migrate", "--noinput")
    stack.manage("collectstatic", "--noinput", "-v", "0")
    stack.manage("seed_demo")
    password = os.urandom(12).hex()
    setup = stack.shell_json(CREATE_USERS.format(team=TEAM, count=args.users, password=password, marker=JSON_MARKER))
    project_ids = [p["id"] for p in setup["projects"]]
    stack.start_gunicorn()
    print(f"Sandbox {stack.sandbox_url}, dashboard {stack.app_url}; projects of {TEAM}: {project_ids}")

    records: list[Record] = []
    run_tag = started_at.strftime("%H%M%S")
    users = [
        LoadUser(
            username=f"load{n:02d}",
            password=password,
            base_url=stack.app_url,
            team_slug=TEAM,
            project_ids=project_ids,
            records=records,
            run_tag=run_tag,
            seed=n,
            timeout=args.timeout,
        )
        for n in range(1, args.users + 1)
    ]
    sign_in_all(users)
    print(f"{len(users)} users signed in")

    plan = FaultPlan(error_rate=args.error_rate, delay_rate=args.delay_rate, delay=args.delay)
    injector = FaultInjector(control, plan)
    mode = injector.detect() if args.fault_mode == "auto" else args.fault_mode
    injector.mode = mode
    print(f"Faults through the sandbox's {'rate field' if mode == 'rate' else 'queue, from a control thread'}")

    t0 = time.monotonic()
    print(f"Phase A: {args.baseline_seconds:.0f} s, no faults")
    phase_a, threads = run_phase(users, "A", args.baseline_seconds, t0, stop)
    stragglers_a = wait_for(threads, phase_a.deadline + args.timeout + 10)

    print(f"Phase B: {args.seconds:.0f} s, {plan.error_rate:.0%} {plan.status}, {plan.delay_rate:.0%} {plan.delay:g} s")
    injector.start()
    phase_b, threads = run_phase(users, "B", args.seconds, t0, stop)
    wait_for(threads, phase_b.deadline)
    injector.stop()
    cleared_at = time.monotonic()
    print("Faults cleared; waiting for requests in flight")
    stragglers_b = wait_for(threads, phase_b.deadline + args.timeout + 10)
    # A delayed request is handled by the sandbox after its delay, even when qonadmin gave up.
    time.sleep(max(0.0, cleared_at + plan.delay + 1 - time.monotonic()))
    drained_s = time.monotonic() - phase_b.deadline
    for user in users:
        user.http.close()  # no idle keep-alive connections left for gunicorn's shutdown
    faults = injector.answers()

    mirror = stack.shell_json(SYNC_AND_DUMP.format(marker=JSON_MARKER))
    check = compare(control, mirror, records)
    server_errors = [r for r in records if r.status >= 500]
    summaries = {phase: summarize(r for r in records if r.phase == phase) for phase in ("A", "B")}
    team_a = summaries["A"].get("team", {}).get("p95_ms", 0.0)
    team_b = summaries["B"].get("team", {}).get("p95_ms", 0.0)
    return {
        "date": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
        },
        "command": command_line(args),
        "settings": {
            "users": args.users,
            "baseline_seconds": args.baseline_seconds,
            "seconds": args.seconds,
            "client_timeout": args.timeout,
            "plan": asdict(plan),
        },
        "faults": faults,
        "phases": summaries,
        "server_errors": {
            "count": len(server_errors),
            "by_kind": dict(Counter(f"{r.phase} {r.kind} {r.status}" for r in server_errors)),
            "examples": [asdict(r) for r in server_errors[:5]],
        },
        "client_timeouts": sum(r.error == "timeout" for r in records),
        "team_p95": {"A": team_a, "B": team_b, "ratio": round(team_b / team_a, 2) if team_a else None},
        "team_p95_by_slow_in_flight": team_by_slow_in_flight(records),
        "still_running": {"A": stragglers_a, "B": stragglers_b},
        "drain_seconds": round(drained_s, 1),
        "check": check,
        "gunicorn_errors": log_excerpts(stack),
        "records": [asdict(r) for r in records],
    }


def command_line(args: argparse.Namespace) -> str:
    """The command that repeats this measurement (options that only choose outputs left out)."""
    words = ["python -m bench.load_under_faults", f"--seconds {args.seconds:g}", f"--users {args.users}"]
    parser = build_parser()
    for name in ("baseline_seconds", "timeout", "error_rate", "delay_rate", "delay", "fault_mode"):
        value = getattr(args, name)
        if value != parser.get_default(name):
            flag = "--" + name.replace("_", "-")
            words.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    return " ".join(words)


# ---- output --------------------------------------------------------------------------


def fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} ×{value}" for key, value in counts.items()) or "–"


def goals(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    ratio = results["team_p95"]["ratio"]
    check = results["check"]
    creates = check["creates"]
    differences = sum(len(p["differences"]) for p in check["projects"])
    return [
        ("qonadmin answers no 5xx", f"{results['server_errors']['count']} 5xx", results["server_errors"]["count"] == 0),
        (
            "team page p95 in B ≤ 2 × A",
            f"{results['team_p95']['B']:.0f} ms vs {results['team_p95']['A']:.0f} ms (×{ratio})",
            ratio is not None and ratio <= 2,
        ),
        (
            "mirror = upstream after one refresh",
            "exact" if check["exact"] else f"{differences} differences",
            check["exact"],
        ),
        ("no create counted twice upstream", f"{len(creates['duplicates'])} duplicates", not creates["duplicates"]),
        (
            'every "Created" exists upstream',
            f"{len(creates['created_but_missing'])} missing",
            not creates["created_but_missing"],
        ),
        (
            '"Nothing was created" is true',
            f"{len(creates['said_nothing_created_but_exists'])} exist anyway",
            not creates["said_nothing_created_but_exists"],
        ),
    ]


def report_text(results: dict[str, Any]) -> str:
    lines = [f"{'phase':5} {'request':12} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses / answers"]
    for phase, kinds in results["phases"].items():
        for kind, s in kinds.items():
            answers = f"; {fmt_counts(s['outcomes'])}" if s["outcomes"] else ""
            lines.append(
                f"{phase:5} {kind:12} {s['count']:6} {s['p50_ms']:8.0f} {s['p95_ms']:8.0f} {s['max_ms']:8.0f}"
                f"  {fmt_counts(s['statuses'])}{answers}"
            )
    faults = results["faults"]
    lines.append(
        f"\nSandbox /v4 answers in B and its drain ({faults['mode']} mode): {fmt_counts(faults['v4_answers'])}"
    )
    if faults["queued"]:
        lines.append(f"Faults queued: {fmt_counts(faults['queued'])}")
    lines.append(f"Client timeouts: {results['client_timeouts']}; drained {results['drain_seconds']} s after B")
    if any(results["still_running"].values()):
        lines.append(f"Users still waiting for an answer when the phase was closed: {results['still_running']}")
    lines.append("\nGoals:")
    lines.extend(f"  [{'ok' if met else '!!'}] {goal}: {value}" for goal, value, met in goals(results))
    check = results["check"]
    for project in check["projects"]:
        lines.append(f"  {project['name']}: upstream {project['upstream']}, mirror {project['mirror']}")
        if project["sync_error"]:
            lines.append(f"    final refresh failed: {project['sync_error']}")
        lines.extend(f"    {d}" for d in project["differences"][:20])
    creates = check["creates"]
    lines.append(
        f"  creates: {creates['titles']} titles; final answers {fmt_counts(creates['final_answers'])}; "
        f"exist upstream by final answer {fmt_counts(creates['exist_upstream_by_final_answer'])}"
    )
    for key in ("duplicates", "created_but_missing", "said_nothing_created_but_exists"):
        if creates[key]:
            lines.append(f"  {key}: {creates[key]}")
    errors = results["server_errors"]
    if errors["count"]:
        lines.append(f"\n5xx answered by qonadmin: {fmt_counts(errors['by_kind'])}")
        lines.extend(f"  {e['phase']} {e['kind']} {e['status']}: {e['excerpt'][:300]}" for e in errors["examples"])
    if results["gunicorn_errors"]:
        lines.append(f"\ngunicorn error log ({len(results['gunicorn_errors'])} error lines), first ones:")
        lines.extend(results["gunicorn_errors"][:5])
    return "\n".join(lines)


def readme_section(results: dict[str, Any]) -> str:
    s = results["settings"]
    plan = s["plan"]
    machine = results["machine"]
    faults = results["faults"]
    how = (
        "the sandbox's `rate` field (two faults kept queued)"
        if faults["mode"] == "rate"
        else "single-shot faults queued from a control thread for a share of the /v4 requests it saw"
    )
    rows = [
        f"| {phase} | {kind} | {x['count']} | {x['p50_ms']:.0f} | {x['p95_ms']:.0f} | {x['max_ms']:.0f} | "
        f"{fmt_counts(x['statuses'])} | {fmt_counts(x['outcomes'])} |"
        for phase, kinds in results["phases"].items()
        for kind, x in kinds.items()
    ]
    goal_rows = [f"| {goal} | {value} | {'met' if met else '**not met**'} |" for goal, value, met in goals(results)]
    check = results["check"]
    differences = [f"- {p['name']}: {d}" for p in check["projects"] for d in p["differences"][:10]]
    differences += [
        f"- {p['name']}: final refresh failed: {p['sync_error']}" for p in check["projects"] if p["sync_error"]
    ]
    creates = check["creates"]
    errors = results["server_errors"]
    reading = reading_text(results)
    parts = [
        SECTION,
        "",
        "`make bench` runs it after the figures above; on its own:",
        "",
        "```sh",
        ".venv/bin/python -m bench.load_under_faults --seconds 60 --users 20   # --write-readme rewrites this section",
        "```",
        "",
        "It starts a throwaway stack in a temporary directory — the sandbox (`--seed 42`), a fresh SQLite "
        "database with `seed_demo`, and gunicorn as `make run` serves it (`gunicorn.conf.py`: 2 workers × 16 threads, "
        "production settings, static files collected into the temporary directory) — and signs in "
        f"{s['users']} members of Acme through the login form. Each user loops (0.2–1 s between actions) over: "
        "the team page; a project page, plus the refresh the page asks for when its mirror is stale; "
        '↻ Refresh (HTMX); and a create through the HTMX form (a unique title; a "may or may not have gone '
        'through" answer is submitted once more with the same form, as the page says, and an answer that asks '
        "the list to reconcile is followed by its refresh). Every request has a "
        f"{s['client_timeout']:.0f} s client timeout. Phase A: {s['baseline_seconds']:.0f} s without faults. "
        f"Phase B: {s['seconds']:.0f} s in which {plan['error_rate']:.0%} of the /v4 requests get a "
        f"{plan['status']} and {plan['delay_rate']:.0%} a {plan['delay']:g} s delay (qonadmin's read timeout is "
        f"{READ_TIMEOUT:g} s), through {how}. Then the faults are cleared, requests in flight (and delayed ones "
        "still sleeping in the sandbox) are waited for, every project is refreshed once (after "
        "“Try now” where its circuit breaker opened), and the mirror (rows not "
        "deleted) is compared with `GET /v4/integrations` of each demo project: ids, titles, active state.",
        "",
        f"### Latest run: {results['date']}",
        "",
        f"{machine['cores']} cores, Python {machine['python']}, SQLite {machine['sqlite']}; `{results['command']}`.",
        "",
        "| phase | request | count | p50 ms | p95 ms | max ms | statuses | answers |",
        "|---|---|---:|---:|---:|---:|---|---|",
        *rows,
        "",
        f"Sandbox answers to /v4 in phase B and its drain: {fmt_counts(faults['v4_answers'])}"
        + (f" (faults queued: {fmt_counts(faults['queued'])})" if faults["queued"] else "")
        + f". Client timeouts: {results['client_timeouts']}.",
        "",
        "| goal | measured | |",
        "|---|---|---|",
        *goal_rows,
        "",
        f"Creates: {creates['titles']} titles sent; final answers {fmt_counts(creates['final_answers'])}; "
        f"of those, upstream now: {fmt_counts(creates['exist_upstream_by_final_answer'])}.",
    ]
    if differences:
        parts += ["", "Mirror vs upstream differences:", "", *differences]
    if errors["count"]:
        parts += ["", f"5xx answered by qonadmin: {fmt_counts(errors['by_kind'])}."]
    parts += ["", f"Reading: {reading}", ""]
    return "\n".join(wrap(line) for line in parts)


def wrap(line: str, width: int = 100) -> str:
    """Prose wrapped like the rest of bench/README.md; tables, headings and code as they are."""
    if line.startswith(("|", "#", "```", ".venv", "- ")) or len(line) <= width:
        return line
    return textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False)


def reading_text(results: dict[str, Any]) -> str:
    phases = results["phases"]
    sentences = []
    team = results["team_p95"]
    if team["ratio"] is not None:
        sentences.append(
            f"The team page never calls Qonversion, yet its p95 went from {team['A']:.0f} ms in A to "
            f"{team['B']:.0f} ms in B (×{team['ratio']})."
        )
        if team["ratio"] > 2:
            split = results["team_p95_by_slow_in_flight"]
            sentences.append(
                "Requests waiting on Qonversion hold gunicorn threads (a worker whose threads are all "
                "busy still accepts connections, which wait for a free thread): team pages that started while "
                f"fewer than 4 requests slower than {SLOW_SECONDS:g} s were in flight had a p95 of "
                f"{split['fewer than 4']:.0f} ms, the {split['requests with 4 or more']} that started with 4 or "
                f"more {split['4 or more']:.0f} ms."
            )
        else:
            sentences.append("Slow upstream calls did not starve the pages that need none.")
    timings = [
        f"{kind} p95 {b['p95_ms'] / 1000:.1f} s, max {b['max_ms'] / 1000:.1f} s"
        for kind in ("refresh", "create")
        if (b := phases.get("B", {}).get(kind))
    ]
    if timings:
        sentences.append(f"In B: {'; '.join(timings)}.")
    errors = results["server_errors"]["count"]
    sentences.append("No 5xx reached the users." if errors == 0 else f"{errors} requests were answered with a 5xx.")
    check = results["check"]
    duplicates = len(check["creates"]["duplicates"])
    sentences.append(
        (
            "After one refresh the mirror matched upstream exactly"
            if check["exact"]
            else "After one refresh the mirror did not match upstream"
        )
        + (", and no create was counted twice." if not duplicates else f"; {duplicates} creates exist twice.")
    )
    return " ".join(sentences)


def write_readme(section: str) -> None:
    text = README.read_text()
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = text.find("\n## ", start + len(SECTION))
        rest = text[following + 1 :] if following != -1 else ""
        text = text[:start] + section + ("\n" + rest if rest else "")
    README.write_text(text)


# ---- entry point ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="phase B (faults) length")
    parser.add_argument("--baseline-seconds", type=float, default=20.0, help="phase A (no faults) length")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=60.0, help="client timeout of every request")
    parser.add_argument("--error-rate", type=float, default=0.10, help="share of /v4 requests answered 503")
    parser.add_argument("--delay-rate", type=float, default=0.10, help="share of /v4 requests delayed")
    parser.add_argument("--delay", type=float, default=12.0, help="seconds of delay (> the 10 s read timeout)")
    parser.add_argument("--fault-mode", choices=("auto", "rate", "queue"), default="auto")
    parser.add_argument("--write-readme", action="store_true", help="rewrite the section in bench/README.md")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep-logs", type=Path, help="copy the sandbox and gunicorn logs here before cleaning up")
    return parser


def parse_args() -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args()
    if not 1 <= args.users <= 99:
        parser.error("--users must be 1..99")
    if not 0 <= args.error_rate < 1 or not 0 <= args.delay_rate < 1 or args.error_rate + args.delay_rate > 1:
        parser.error("--error-rate and --delay-rate must be shares that add up to at most 1")
    return args


def main() -> None:
    args = parse_args()

    def terminate(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    # Ctrl-C and SIGTERM both end in the `finally` that stops every process started here
    # (explicitly, because a shell may start a background job with SIGINT ignored).
    signal.signal(signal.SIGINT, terminate)
    signal.signal(signal.SIGTERM, terminate)
    stack = Stack()
    stop = threading.Event()
    try:
        results = run(args, stack, stop)
    except KeyboardInterrupt:
        print("\nInterrupted; stopping everything this benchmark started")
        raise SystemExit(130) from None
    except (StackError, SignInError) as error:
        print(f"The benchmark could not run: {error}")
        raise SystemExit(1) from None
    finally:
        stop.set()
        stack.stop(keep_logs_in=args.keep_logs)
    print()
    print(report_text(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    if args.write_readme:
        write_readme(readme_section(results))
        print(f"\nWrote the section “{SECTION[3:]}” of {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
