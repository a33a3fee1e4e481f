"""Benchmarks: `make bench` (or `python -m bench [--sizes 200,1000] [--repeat 30]`).

Runs against a throwaway test database and an in-process sandbox, and prints the
figures that bench/README.md records. Not a test: nothing here passes or fails.
"""

import argparse
import logging
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qonadmin.test_settings")

import django

django.setup()
# The figures, not every request the sandbox and the client log on the way.
logging.disable(logging.INFO)

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from integrations.services import integration_create  # noqa: E402
from integrations.sync import project_sync  # noqa: E402
from sandbox.config import SandboxConfig  # noqa: E402
from sandbox.control_client import SandboxControl  # noqa: E402
from sandbox.server import running_sandbox  # noqa: E402
from teams.models import Membership, Project, Role, Team  # noqa: E402

KEY = "test_sk_bench_project_key"


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], samples[-1]


def report(what: str, figures: tuple[float, float, float]) -> None:
    median, p95, worst = figures
    print(f"{what:52} {median:10.1f} {p95:8.1f} {worst:8.1f}")


def count_queries(action: Callable[[], object]) -> int:
    queries: list[str] = []

    def record(execute: Callable[..., object], sql: str, *rest: object) -> object:
        queries.append(sql)
        return execute(sql, *rest)

    with connection.execute_wrapper(record):
        action()
    return len(queries)


def peak_kib(action: Callable[[], object]) -> float:
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="200,1000", help="integration counts to measure")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        with running_sandbox(SandboxConfig(seed=1)) as root:
            settings.QONVERSION_API_BASE = f"{root}/v4"
            control = SandboxControl(settings.QONVERSION_API_BASE)
            run(sizes, args.repeat, control)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(sizes: list[int], repeat: int, control: SandboxControl) -> None:
    team = Team.objects.create(name="Bench", slug="bench")
    user = User.objects.create_user("bench")
    Membership.objects.create(team=team, user=user, role=Role.OWNER)
    project = Project(team=team, name="Bench")
    project.set_secret_key(KEY)
    project.save()
    client = Client()
    client.force_login(user)
    page = f"/projects/{project.pk}/"

    print(f"{'what':52} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    made = 0
    for size in sizes:
        while made < size:
            control.create_external(
                key=KEY, title=f"Integration {made:05d}", integration="slack", target_platform="iOS", active=made % 2
            )
            made += 1
        project_sync(project=project)  # first sync inserts the rows
        sync = timed(lambda: project_sync(project=project), max(3, repeat // 3))
        report(f"refresh from sandbox, {size} integrations, no changes", sync)
        client.get(page)  # warm caches and templates
        render = timed(lambda: client.get(page), repeat)
        report(f"project page, {size} integrations", render)
        queries = count_queries(lambda: client.get(page))
        html_kib = len(client.get(page).content) / 1024
        memory = peak_kib(lambda: client.get(page))
        print(f"   {queries} SQL queries, {html_kib:.0f} KiB of HTML, peak Python allocation {memory:.0f} KiB")

    counter = iter(range(10**6))
    create = timed(
        lambda: integration_create(
            project=project,
            actor=user,
            title="Bench create",
            provider_slug="amplitude",
            platform="iOS",
            idempotency_key=f"bench-{next(counter)}",
        ),
        repeat,
    )
    report("create through the service (sandbox round trip)", create)


if __name__ == "__main__":
    main()
