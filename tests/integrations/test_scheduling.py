"""Scheduled refreshes on the task engine: each due project enqueued once, several
workers never run one task twice, a 429 delays only its project, a refused key backs off."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from integrations import scheduling
from integrations.models import SyncSchedule
from sandbox.control_client import SandboxControl
from teams.models import Project, Team

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def make_projects(team: Team, count: int) -> list[Project]:
    projects = []
    for n in range(count):
        project = Project(team=team, name=f"P{n}")
        project.set_secret_key(f"test_sk_scheduled_project_{n:03d}")
        project.save()
        projects.append(project)
    return projects


def list_calls(sandbox: SandboxControl) -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] == "GET" and r["path"] == "/v4/integrations"]


def run_workers(count: int) -> None:
    """`count` db_worker loops in threads, each until the queue is empty (--batch)."""

    def work(worker_id: str) -> None:
        try:
            Worker(
                queue_names=["default"],
                interval=0.05,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=worker_id,
                excluded_queue_names=[],
            ).run()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS)
def test_each_due_project_is_enqueued_once_however_many_schedulers_ask(team: Team, sandbox: SandboxControl):
    projects = make_projects(team, 3)
    now = timezone.now()
    assert sorted(scheduling.enqueue_due_syncs(now=now)) == [p.pk for p in projects]
    assert scheduling.enqueue_due_syncs(now=now) == []  # a second scheduler finds nothing due
    assert DBTaskResult.objects.count() == 3
    # Not due again before the interval has passed.
    assert scheduling.enqueue_due_syncs(now=now + timedelta(seconds=30)) == []
    assert len(scheduling.enqueue_due_syncs(now=now + timedelta(seconds=61))) == 3


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_TASKS)
def test_two_workers_refresh_every_project_once(team: Team, sandbox: SandboxControl):
    projects = make_projects(team, 8)
    scheduling.enqueue_due_syncs()
    sandbox.clear_requests()
    run_workers(2)
    results = list(DBTaskResult.objects.all())
    assert len(results) == 8
    assert {r.status for r in results} == {"SUCCESSFUL"}
    assert all(len(r.worker_ids) == 1 for r in results), [r.worker_ids for r in results]
    # One list call per project: no project refreshed twice.
    assert sorted(r["key_hint"] for r in list_calls(sandbox)) == sorted(p.key_hint for p in projects)
    for project in Project.objects.all():
        assert project.synced_at is not None
        assert project.next_sync_at > timezone.now() + timedelta(seconds=50)


@pytest.mark.django_db
def test_sync_integrations_now_runs_here_and_sets_the_next_time(team: Team, sandbox: SandboxControl):
    make_projects(team, 2)
    call_command("sync_integrations", "--now")
    assert len(list_calls(sandbox)) == 2
    assert all(p.synced_at is not None for p in Project.objects.all())
    call_command("sync_integrations", "--now")  # nothing due yet
    assert len(list_calls(sandbox)) == 2
    call_command("sync_integrations", "--now", "--all")
    assert len(list_calls(sandbox)) == 4


@pytest.mark.django_db
def test_a_429_delays_only_its_project_by_retry_after(team: Team, sandbox: SandboxControl, settings):
    settings.QONVERSION_MAX_RETRIES = 0
    limited, other = make_projects(team, 2)
    sandbox.add_fault(method="GET", path_prefix="/v4/integrations", status=429, retry_after=600, times=1)
    started = timezone.now()
    call_command("sync_integrations", "--now", "--project", str(limited.pk))
    call_command("sync_integrations", "--now", "--project", str(other.pk))
    limited.refresh_from_db()
    other.refresh_from_db()
    assert limited.next_sync_at >= started + timedelta(seconds=600)
    assert other.next_sync_at < started + timedelta(seconds=120)
    assert other.synced_at is not None


@pytest.mark.django_db
def test_a_refused_key_backs_off_instead_of_retrying_every_minute(team: Team, sandbox: SandboxControl, settings):
    settings.QONVERSION_MAX_RETRIES = 0
    (project,) = make_projects(team, 1)
    sandbox.add_fault(method="GET", path_prefix="/v4/integrations", status=401, times=0)
    waits = []
    for _ in range(4):
        started = timezone.now()
        Project.objects.filter(pk=project.pk).update(next_sync_at=None)
        call_command("sync_integrations", "--now")
        project.refresh_from_db()
        waits.append(round((project.next_sync_at - started).total_seconds() / 60))
    assert waits == [1, 2, 4, 8]
    assert "rejected this project's key (401)" in project.sync_error
    sandbox.clear_faults()


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS)
def test_one_chain_of_ticks_lives_however_often_the_schedule_is_started(team: Team, sandbox: SandboxControl):
    make_projects(team, 2)
    now = timezone.now()
    assert scheduling.tick(now=now)
    assert not scheduling.tick(now=now + timedelta(seconds=2))  # a second chain dies
    ticks = DBTaskResult.objects.filter(task_path__endswith="schedule_tick")
    assert ticks.count() == 1
    assert ticks.get().run_after == now + scheduling.TICK
    assert DBTaskResult.objects.filter(task_path__endswith="sync_project").count() == 2
    assert DBTaskResult.objects.filter(task_path__endswith="prune_history_task").count() == 1
    # The chain's next beat owns the schedule again.
    assert scheduling.tick(now=now + scheduling.TICK)
    assert SyncSchedule.objects.get().next_tick_at == now + 2 * scheduling.TICK


@pytest.mark.django_db
def test_the_page_says_when_a_refused_key_is_tried_again(team: Team, owner_client, sandbox: SandboxControl, settings):
    settings.QONVERSION_MAX_RETRIES = 0
    (project,) = make_projects(team, 1)
    sandbox.add_fault(method="GET", path_prefix="/v4/integrations", status=401, times=0)
    call_command("sync_integrations", "--now")
    project.refresh_from_db()
    html = owner_client.get(f"/projects/{project.pk}/").content.decode()
    assert "Qonversion refused this project's key 1 time in a row" in html
    assert f">{project.next_sync_at:%H:%M} UTC</time>" in html.split("the next one is at", 1)[1]
    sandbox.clear_faults()


@pytest.mark.django_db
def test_a_sync_whose_worker_died_is_done_by_the_next_round(team: Team, sandbox: SandboxControl):
    (project,) = make_projects(team, 1)
    # A worker claimed it and died: the claim and the provisional next time are left behind.
    died_at = timezone.now() - timedelta(minutes=2)
    Project.objects.filter(pk=project.pk).update(sync_started_at=died_at, next_sync_at=died_at)
    assert scheduling.enqueue_due_syncs() == [project.pk]  # due again, and run (inline here)
    project.refresh_from_db()
    assert project.synced_at is not None and project.sync_started_at is None


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS)
def test_the_hourly_pruning_removes_old_finished_task_results(team: Team):
    from integrations.tasks import prune_history_task

    make_projects(team, 1)
    scheduling.enqueue_due_syncs()
    old = timezone.now() - timedelta(days=8)
    DBTaskResult.objects.update(status="SUCCESSFUL", finished_at=old, enqueued_at=old)
    assert prune_history_task.call() == 0
    assert not DBTaskResult.objects.exists()
