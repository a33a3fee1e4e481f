"""Small builders for tests: integrations made through the real service layer, and
mirror rows written directly where only their number matters."""

from django.contrib.auth.models import User
from django.utils import timezone

from integrations.models import Integration, Status
from integrations.services import integration_create, integration_set_status
from teams.models import Project


def make_integration(
    project: Project, actor: User, title: str, *, provider: str = "slack", platform: str = "iOS", active: bool = False
) -> Integration:
    integration = integration_create(
        project=project,
        actor=actor,
        title=title,
        provider_slug=provider,
        platform=platform,
        idempotency_key=f"key-{project.pk}-{title}",
    )
    if active:
        integration_set_status(integration=integration, actor=actor, active=True)
    return integration


def mirror_rows(project: Project, count: int, *, status: str = Status.ACTIVE) -> list[Integration]:
    """`count` more mirror rows of `project` without upstream records, all in `status`."""
    now = timezone.now()
    start = Integration.objects.filter(project=project).count()
    return Integration.objects.bulk_create(
        Integration(
            project=project,
            qonversion_id=f"{project.pk}-{n}",
            title=f"{project.name} {n}",
            provider_name="Slack",
            platform="iOS",
            status=status,
            upstream_created_at=now,
            upstream_updated_at=now,
        )
        for n in range(start, start + count)
    )
