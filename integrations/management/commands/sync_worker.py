"""Keep every project's mirror fresh, and so alert on breakage, without anyone looking.

Run it beside the web processes (one instance is enough; two are harmless because
refreshes of one project are serialised). `--once` suits a cron job.
"""

import logging
import signal
import time
from datetime import timedelta
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone

from integrations.qonversion import QonversionError
from integrations.sync import project_sync
from teams.models import Project

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Refresh every project from Qonversion on a schedule, alerting when integrations go into Error."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=int, default=60, help="seconds between refreshes of a project")
        parser.add_argument("--once", action="store_true", help="refresh what is due once, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = max(5, options["interval"])
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        while not self.stopping:
            refreshed, failed = self.refresh_due(timedelta(seconds=interval))
            if refreshed or failed:
                self.stdout.write(f"refreshed {refreshed} project(s), {failed} failed")
            if options["once"]:
                return
            close_old_connections()
            for _ in range(interval):  # sleep in steps so a stop is quick
                if self.stopping:
                    break
                time.sleep(1)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def refresh_due(self, interval: timedelta) -> tuple[int, int]:
        cutoff = timezone.now() - interval
        due = Project.objects.select_related("team").filter(synced_at__isnull=True) | Project.objects.select_related(
            "team"
        ).filter(synced_at__lt=cutoff)
        # Projects whose circuit breaker is open are left alone until their next try.
        due = due.exclude(upstream_paused_until__gt=timezone.now())
        refreshed = failed = 0
        for project in due.order_by(F("synced_at").asc(nulls_first=True)):
            if self.stopping:
                break
            try:
                result = project_sync(project=project)
            except QonversionError as error:
                failed += 1
                self.stderr.write(f"{project.team.name} / {project.name}: {error.message}")
                continue
            except Exception:
                # One project's fault must not stop refreshes (and alerts) for every team.
                failed += 1
                logger.exception("refresh of project %s failed", project.pk)
                continue
            refreshed += 1
            if result.newly_broken:
                self.stdout.write(f"{project.team.name} / {project.name}: {result.newly_broken} went into Error")
        return refreshed, failed
