"""Demo data for `make run`: teams, users, projects and integrations in every state.

Idempotent: running it again changes nothing that exists. Integrations are created
through the real service layer against whatever QONVERSION_API_BASE points at; the
delivery simulation that makes some of them fail only runs against the sandbox.
`--projects N` adds N more projects to Acme (5 integrations each, each project with its
own sandbox key), e.g. for the sync-round benchmark; it needs the sandbox.
"""

import os
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from integrations.errors import IntegrationError
from integrations.models import Integration, Status
from integrations.selectors import live_integrations
from integrations.services import integration_create, integration_set_status
from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Membership, Project, Role, Team

DEMO_PASSWORD = "demo"  # noqa: S105 - demo mode only, refused otherwise


@dataclass(frozen=True)
class Sample:
    title: str
    provider: str
    platform: str
    state: Status
    failures: int = 0  # failed deliveries to simulate
    message: str = ""


SAMPLES: dict[tuple[str, str], list[Sample]] = {
    ("acme", "Acme iOS"): [
        Sample("Amplitude — Production iOS", "amplitude", "iOS", Status.ACTIVE),
        Sample("AppsFlyer attribution", "appsflyer", "iOS", Status.ACTIVE),
        Sample("Legacy webhook", "webhooks", "Android", Status.ERROR, 5, "401 from endpoint: bad key"),
        Sample("Braze — retention", "braze", "iOS", Status.ACTIVE, 2, "Timeout after 10 s contacting provider"),
        Sample("Slack #revenue alerts", "slack", "iOS", Status.PAUSED),
        Sample("Mixpanel staging", "mixpanel", "Android", Status.PAUSED),
    ],
    ("acme", "Acme Sandbox"): [
        Sample("Braze — EU", "braze", "Android", Status.ERROR, 5, "Rate limited by provider (429)"),
        Sample("Segment web checkout", "segment", "Stripe", Status.ACTIVE),
        Sample("Firebase QA", "firebase", "Android", Status.PAUSED),
    ],
    ("globex", "Globex App"): [
        Sample("Globex webhook", "webhooks", "iOS", Status.ACTIVE),
        Sample("Adjust", "adjust", "Android", Status.PAUSED),
    ],
}
PROJECT_KEYS = {
    ("acme", "Acme iOS"): "test_sk_acme_ios_demo_key",
    ("acme", "Acme Sandbox"): "test_sk_acme_sandbox_demo_key",
    ("globex", "Globex App"): "test_sk_globex_app_demo_key",
}
TEAMS = {"acme": "Acme", "globex": "Globex"}
USERS = [("demo", "acme", Role.OWNER), ("viewer", "acme", Role.VIEWER), ("outsider", "globex", Role.OWNER)]

# `--projects N`: the extra projects of Acme, each with these integrations (none ends in
# Error: a failure or two is recorded, below the sandbox's threshold).
EXTRA_TEAM = "acme"
EXTRA_SAMPLES = [
    Sample("Amplitude", "amplitude", "iOS", Status.ACTIVE),
    Sample("AppsFlyer attribution", "appsflyer", "Android", Status.ACTIVE),
    Sample("Order webhook", "webhooks", "Stripe", Status.ACTIVE, 2, "Timeout after 10 s contacting provider"),
    Sample("Slack #revenue", "slack", "iOS", Status.PAUSED),
    Sample("Mixpanel staging", "mixpanel", "Android", Status.PAUSED),
]


def extra_project_name(number: int) -> str:
    return f"Acme Extra {number:03d}"


def extra_project_key(number: int) -> str:
    # Distinct per project (its own data in the sandbox); the number ends it, so the
    # masked hints (test_sk_…_007) tell the projects apart.
    return f"test_sk_acme_extra_demo_key_{number:03d}"


def submission_key(project: Project, title: str) -> str:
    # Stable per project and title: a re-run after a failure can never duplicate. Once an
    # integration of that title was deleted here, the next run is a new submission (else
    # Qonversion would replay the answer naming the deleted one, which is refused).
    deleted = Integration.objects.filter(project=project, title=title, deleted_at__isnull=False).count()
    return str(uuid.uuid5(project.public_id, title if not deleted else f"{title}#{deleted}"))


class Command(BaseCommand):
    help = "Create demo teams, users (password 'demo'), projects and integrations. Demo mode only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--integrations", type=int, default=0, help="also seed N integrations into --project")
        parser.add_argument("--project", default="Acme iOS", help="project for --integrations (default: Acme iOS)")
        parser.add_argument("--no-simulate", action="store_true", help="skip the sandbox delivery simulation")
        parser.add_argument(
            "--projects",
            type=int,
            default=0,
            help="also add N projects to Acme with 5 integrations each, one sandbox key per project",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.QONADMIN_DEMO:
            raise CommandError(
                "seed_demo creates users with the password 'demo'; it runs only with QONADMIN_DEMO=true."
            )
        if options["projects"] < 0:
            raise CommandError("--projects must be 0 or more.")
        control = SandboxControl(settings.QONVERSION_API_BASE)
        if options["projects"] and not control.is_sandbox():
            raise CommandError(
                "--projects needs the sandbox (QONVERSION_API_BASE pointing at it): "
                "each extra project gets a sandbox key of its own."
            )
        users = self._users_and_teams()
        simulate = not options["no_simulate"] and control.is_sandbox()
        if not simulate:
            self.stdout.write(
                "Notice: not talking to the sandbox, so the delivery simulation (Error states) is skipped."
            )
        for (team_slug, name), samples in SAMPLES.items():
            project = self._project(team_slug, name)
            owner = users[next(u for u, t, r in USERS if t == team_slug and r == Role.OWNER)]
            try:
                self._seed_project(project, owner, samples, control if simulate else None)
            except IntegrationError as error:
                # Keep going: the dashboard still starts, and its pages say what is wrong.
                self.stderr.write(
                    f"Notice: {project} was not filled with sample integrations: {error.explain(outcome='Skipped')}"
                )
        if options["integrations"]:
            project = Project.objects.select_related("team").get(name=options["project"])
            self._seed_many(project, users["demo"], options["integrations"])
        if options["projects"]:
            self._seed_extra_projects(options["projects"], users["demo"], control if simulate else None)
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Sign in as demo / demo (owner), viewer / demo, outsider / demo.")
        )

    @transaction.atomic
    def _users_and_teams(self) -> dict[str, User]:
        user_model = get_user_model()
        users: dict[str, User] = {}
        teams = {
            slug: Team.objects.get_or_create(slug=slug, defaults={"name": name})[0] for slug, name in TEAMS.items()
        }
        for username, team_slug, role in USERS:
            user, created = user_model.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.email = f"{username}@example.com"  # alerts and invitations print to the console in the demo
                user.save()
            Membership.objects.get_or_create(team=teams[team_slug], user=user, defaults={"role": role})
            users[username] = user
        return users

    def _seed_extra_projects(self, count: int, owner: User, control: SandboxControl | None) -> None:
        team = Team.objects.get(slug=EXTRA_TEAM)
        for number in range(1, count + 1):
            name = extra_project_name(number)
            project = Project.objects.filter(team=team, name=name).first()
            if project is None:
                project = Project(team=team, name=name)
                project.set_secret_key(extra_project_key(number))
                project.save()
            try:
                self._seed_project(project, owner, EXTRA_SAMPLES, control)
            except IntegrationError as error:
                self.stderr.write(
                    f"Notice: {project} was not filled with sample integrations: {error.explain(outcome='Skipped')}"
                )
        self.stdout.write(f"{count} extra project(s) in {team.name}.")

    def _project(self, team_slug: str, name: str) -> Project:
        team = Team.objects.get(slug=team_slug)
        project = Project.objects.filter(team=team, name=name).first()
        if project is None:
            project = Project(team=team, name=name)
            # Against a real Qonversion API the demo needs a real key (QONADMIN_DEMO_SECRET_KEY).
            project.set_secret_key(os.environ.get("QONADMIN_DEMO_SECRET_KEY") or PROJECT_KEYS[(team_slug, name)])
            project.save()
        return project

    def _seed_project(
        self, project: Project, owner: User, samples: list[Sample], control: SandboxControl | None
    ) -> None:
        project_sync(project=project)
        if live_integrations(project).exists():
            self.stdout.write(f"{project}: has integrations already, left as it is")
            return
        for sample in samples:
            integration = integration_create(
                project=project,
                actor=owner,
                title=sample.title,
                provider_slug=sample.provider,
                platform=sample.platform,
                idempotency_key=submission_key(project, sample.title),
            )
            if sample.state in (Status.ACTIVE, Status.ERROR):
                integration_set_status(integration=integration, actor=owner, active=True)
            if control is None:
                continue
            key = project.secret_key()
            if sample.state == Status.ACTIVE:
                control.deliveries(key=key, integration_id=integration.qonversion_id, outcome="success", count=3)
            if sample.failures:
                control.deliveries(
                    key=key,
                    integration_id=integration.qonversion_id,
                    outcome="failure",
                    count=sample.failures,
                    message=sample.message,
                )
        result = project_sync(project=project)
        self.stdout.write(f"{project}: {result.total} integrations")

    def _seed_many(self, project: Project, actor: User, count: int) -> None:
        providers = [("amplitude", "iOS"), ("appsflyer", "Android"), ("webhooks", "Stripe"), ("slack", "iOS")]
        project_sync(project=project)
        existing = set(live_integrations(project).values_list("title", flat=True))
        for number in range(1, count + 1):
            slug, platform = providers[number % len(providers)]
            title = f"Bulk integration {number:05d}"
            if title in existing:
                continue
            integration_create(
                project=project,
                actor=actor,
                title=title,
                provider_slug=slug,
                platform=platform,
                idempotency_key=submission_key(project, title),
            )
        result = project_sync(project=project)
        self.stdout.write(f"{project}: {result.total} integrations after seeding {count}")
