"""Small builders for tests: integrations made through the real service layer."""

from django.contrib.auth.models import User

from integrations.models import Integration
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
