"""The door to one integration: through its project's door in teams.access."""

from django.http import Http404

from integrations.models import Integration
from teams.access import Action, TeamAccess, User, get_project_for_user
from teams.models import Project


def get_integration_for_user(
    user: User, project_id: int, integration_id: int, action: Action = Action.VIEW
) -> tuple[Integration, Project, TeamAccess]:
    project, access = get_project_for_user(user, project_id, action)
    integration = Integration.objects.filter(project=project, pk=integration_id).first()
    if integration is None:
        raise Http404
    integration.project = project
    return integration, project, access
