"""Background work of integrations, on Django's task framework (workers: db_worker)."""

from datetime import datetime

from django.core.management import call_command
from django.tasks import task, task_backends

from integrations import scheduling
from integrations.models import BulkJob
from integrations.services import bulk_job_run
from teams.models import Project


@task
def sync_project(project_id: int, asked_at: str) -> str:
    """Refresh one project's mirror; several workers refresh several projects at once,
    and one project is never refreshed by two at the same time (sync claim)."""
    project = Project.objects.select_related("team").filter(pk=project_id).first()
    if project is None:
        return "project removed"
    return scheduling.run_sync(project, asked_at=datetime.fromisoformat(asked_at))


@task
def schedule_tick() -> bool:
    return scheduling.tick()


@task
def prune_history_task() -> int:
    """Remove history older than QONADMIN_HISTORY_DAYS, and finished task results older
    than a week (failed ones after a month, kept longer to look into)."""
    from integrations.history import prune_history

    if task_backends["default"].__class__.__name__ == "DatabaseBackend":
        call_command("prune_db_task_results", "--min-age-days", "7", "--failed-min-age-days", "30", verbosity=0)
    return prune_history()


@task
def run_bulk_job(job_id: int) -> str:
    """A bulk pause, activate or delete, off the request; the page polls its progress."""
    job = BulkJob.objects.select_related("project__team", "actor").filter(pk=job_id).first()
    if job is None:
        return "job removed"
    bulk_job_run(job=job)
    return f"{job.done} of {job.total} done, {job.failed} failed"
