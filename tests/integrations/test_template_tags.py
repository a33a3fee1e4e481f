import pytest
from django.template import Context, Template
from django.urls import reverse

from integrations.models import Integration
from teams.models import Project


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "route"),
    [("", "integration_detail"), ("status", "integration_status"), ("delete", "integration_delete")],
)
def test_integration_url_matches_reverse(project: Project, action: str, route: str):
    integration = Integration(pk=42, project=project)
    rendered = Template("{% load integrations %}{% integration_url integration action %}").render(
        Context({"integration": integration, "action": action})
    )
    assert rendered == reverse(route, kwargs={"project_id": project.pk, "integration_id": 42})
