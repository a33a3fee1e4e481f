"""Every URL of the app: outsiders get 404, viewers get 403 on changes, and neither
reaches Qonversion."""

import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from django.utils import timezone

from integrations.models import Integration, Project
from sandbox.control_client import SandboxControl
from tests.conftest import HTMX, login

# Every named route of the integrations app with the verbs it accepts and whether
# a verb changes something. A new route must be added here, or the sweep fails.
ROUTES: dict[str, dict[str, bool]] = {
    "team_detail": {"GET": False},
    "project_detail": {"GET": False},
    "project_refresh": {"POST": False},  # refreshes the mirror; viewers may
    "integration_create": {"GET": True, "POST": True},
    "integration_bulk": {"POST": True},
    "integration_detail": {"GET": False},
    "integration_status": {"POST": True},
    "integration_delete": {"GET": True, "POST": True},
}
PUBLIC = {"home", "healthz"}


def app_routes() -> set[str]:
    resolver = get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        for inner in getattr(pattern, "url_patterns", []):
            if isinstance(inner, URLPattern) and inner.name and inner.callback.__module__.startswith("integrations."):
                names.add(inner.name)
    return names


def url_for(name: str, project: Project) -> str:
    if name == "team_detail":
        return reverse(name, kwargs={"team_slug": project.team.slug})
    if name.startswith("integration_") and name not in ("integration_create", "integration_bulk"):
        integration = Integration.objects.filter(project=project).first() or mirror_row(project)
        return reverse(name, kwargs={"project_id": project.pk, "integration_id": integration.pk})
    return reverse(name, kwargs={"project_id": project.pk})


def mirror_row(project: Project) -> Integration:
    now = timezone.now()
    return Integration.objects.create(
        project=project,
        qonversion_id="abc123",
        title="Existing",
        provider_name="Slack",
        platform="iOS",
        active=1,
        upstream_created_at=now,
        upstream_updated_at=now,
    )


def call(client: Client, method: str, url: str, **extra: str):
    data = {
        "title": "x",
        "provider": "slack",
        "platform": "iOS",
        "idempotency_key": str(uuid.uuid4()),
        "active": "0",
        "action": "pause",
        "ids": [str(i) for i in Integration.objects.values_list("pk", flat=True)],
        "confirm": "yes",
    }
    if method == "GET":
        return client.get(url, **extra)
    return client.post(url, data, **extra)


def test_the_sweep_covers_every_route():
    assert app_routes() == set(ROUTES) | PUBLIC


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [False, True])
def test_an_outsider_gets_404_everywhere(project: Project, outsider, sandbox: SandboxControl, htmx: bool):
    client = login(outsider)
    sandbox.clear_requests()
    extra = HTMX if htmx else {}
    for name, verbs in ROUTES.items():
        for method in verbs:
            response = call(client, method, url_for(name, project), **extra)
            assert response.status_code == 404, (name, method, response.status_code)
    assert sandbox.requests() == []


@pytest.mark.django_db
def test_a_viewer_gets_403_on_every_change_and_sees_the_rest(project: Project, viewer, sandbox: SandboxControl):
    client = login(viewer)
    for name, verbs in ROUTES.items():
        for method, changes in verbs.items():
            sandbox.clear_requests()
            response = call(client, method, url_for(name, project), **HTMX)
            if changes:
                assert response.status_code == 403, (name, method)
                assert sandbox.requests() == [], (name, method)
            else:
                assert response.status_code == 200, (name, method, response.status_code)


@pytest.mark.django_db
def test_a_missing_project_is_404_not_500(owner_client: Client):
    assert owner_client.get(reverse("project_detail", kwargs={"project_id": 999999})).status_code == 404


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(project: Project, client: Client, sandbox: SandboxControl):
    for name, verbs in ROUTES.items():
        for method in verbs:
            response = call(client, method, url_for(name, project))
            assert response.status_code == 302 and "/login/" in response["Location"], (name, method)
    assert sandbox.requests() == []


@pytest.mark.django_db
def test_unsafe_requests_without_a_csrf_token_are_refused(project: Project, owner, sandbox: SandboxControl):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    for name, verbs in ROUTES.items():
        if "POST" in verbs:
            assert call(client, "POST", url_for(name, project), **HTMX).status_code == 403, name
    assert sandbox.requests() == []


@pytest.mark.django_db
def test_htmx_requests_carry_the_csrf_token_from_the_page(project: Project, owner, sandbox):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    html = client.get(reverse("project_detail", kwargs={"project_id": project.pk})).content.decode()
    token = html.split('hx-headers=\'{"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    response = client.post(
        reverse("project_refresh", kwargs={"project_id": project.pk}), HTTP_X_CSRFTOKEN=token, **HTMX
    )
    assert response.status_code == 200
