"""Refresh projects from Qonversion: enqueue syncs on the task engine, or run them here."""

import logging
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations import scheduling
from teams.models import Project

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Enqueue a sync of every due project (all projects with --all, one with --project) for the "
        "workers (manage.py db_worker); --now runs them in this process instead (cron, debugging); "
        "--schedule starts the self-renewing schedule (safe to run on every instance)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--project", type=int, action="append", help="only this project id (repeatable)")
        parser.add_argument("--all", action="store_true", help="every project, due or not")
        parser.add_argument("--now", action="store_true", help="run the syncs here instead of enqueueing them")
        parser.add_argument("--schedule", action="store_true", help="start the schedule's tick on the workers")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] | None = options["project"]
        if ids and (missing := set(ids) - set(Project.objects.filter(pk__in=ids).values_list("pk", flat=True))):
            raise CommandError(f"No project with id {', '.join(map(str, sorted(missing)))}")
        if options["schedule"]:
            scheduling.start_schedule()
            self.stdout.write("Schedule started: the workers refresh every due project from now on.")
            return
        everything = options["all"] or bool(ids)
        now = timezone.now()
        if not options["now"]:
            claimed = scheduling.enqueue_due_syncs(now=now, project_ids=ids, everything=everything)
            self.stdout.write(f"Enqueued {len(claimed)} project sync(s).")
            return
        claimed = scheduling.claim_due_projects(now=now, project_ids=ids, everything=everything)
        failed = 0
        for project in Project.objects.select_related("team").filter(pk__in=claimed).order_by("pk"):
            try:
                outcome = scheduling.run_sync(project, asked_at=now)
            except Exception:
                # One project's fault must not stop the others (a worker records it the same way).
                logger.exception("sync of project %s failed", project.pk)
                outcome, failed = "failed unexpectedly (see the log)", failed + 1
            self.stdout.write(f"{project.team.name} / {project.name}: {outcome}")
        self.stdout.write(f"Ran {len(claimed)} project sync(s), {failed} failed unexpectedly.")
