"""Headers and parameters a client controls never cause a server error, and never
after a change has been made upstream: only a path on this site is a redirect target."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from integrations.clients import client_for_project
from integrations.models import Integration, Status
from qonadmin.http import safe_path
from teams.models import Project
from tests.conftest import HTMX
from tests.factories import make_integration

UNPARSABLE_URLS = ["http://[::1", "http://[", "https://[zz]/projects/", "http://x:99999999/"]
NOT_PATHS = [";env;", "home", "login", "admin:index", "//evil.example/", "/\\evil.example", "https://evil.example/"]


def status_url(integration: Integration) -> str:
    return reverse(
        "integration_status", kwargs={"project_id": integration.project_id, "integration_id": integration.pk}
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/projects/1/?status=error", "/projects/1/?status=error"),
        ("/", "/"),
        (";env;", ""),
        ("home", ""),
        ("//evil.example/x", ""),
        ("/\\evil.example", ""),
        ("https://evil.example/", ""),
        ("/ok\r\nSet-Cookie: x=1", ""),
        ("/a b", ""),
        ("", ""),
        (None, ""),
        (["/"], ""),
        ("/" + "a" * 5000, ""),
    ],
)
def test_only_a_clean_path_on_this_site_is_a_redirect_target(value: object, expected: str):
    assert safe_path(value) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("current_url", UNPARSABLE_URLS)
def test_a_garbage_current_url_header_does_not_fail_a_status_change(
    project: Project, owner, owner_client: Client, current_url: str
):
    integration = make_integration(project, owner, "Amplitude prod")
    response = owner_client.post(status_url(integration), {"status": "active"}, **HTMX, HTTP_HX_CURRENT_URL=current_url)
    assert response.status_code == 200
    assert '<span class="badge-label">Active</span>' in response.content.decode()
    integration.refresh_from_db()
    assert integration.status == Status.ACTIVE
    assert AuditEvent.objects.get(action="integration.activate").outcome == "success"


@pytest.mark.django_db
@pytest.mark.parametrize("current_url", UNPARSABLE_URLS)
def test_a_garbage_current_url_header_does_not_fail_a_create(project: Project, owner_client: Client, current_url: str):
    url = reverse("integration_create", kwargs={"project_id": project.pk})
    data = {"title": "Made anyway", "provider": "slack", "platform": "iOS", "idempotency_key": str(uuid.uuid4())}
    response = owner_client.post(url, data, **HTMX, HTTP_HX_CURRENT_URL=current_url)
    assert response.status_code == 200
    assert "Created “Made anyway”" in response.content.decode()
    assert [i.title for i in client_for_project(project).list_integrations()] == ["Made anyway"]


@pytest.mark.django_db
@pytest.mark.parametrize("current_url", UNPARSABLE_URLS)
def test_a_garbage_current_url_header_does_not_fail_filters_bulk_or_refresh(
    project: Project, owner, owner_client: Client, current_url: str
):
    integration = make_integration(project, owner, "Amplitude prod")
    page = reverse("project_detail", kwargs={"project_id": project.pk})
    refresh = reverse("project_refresh", kwargs={"project_id": project.pk})
    bulk = reverse("integration_bulk", kwargs={"project_id": project.pk})
    headers = {**HTMX, "HTTP_HX_CURRENT_URL": current_url}
    assert owner_client.get(page, {"status": "paused"}, **headers).status_code == 200
    assert owner_client.post(refresh, **headers).status_code == 200
    response = owner_client.post(bulk, {"action": "activate", "ids": [integration.pk]}, **headers)
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("next_value", NOT_PATHS)
def test_a_next_that_is_not_a_path_falls_back_to_the_project_page_after_a_status_change(
    project: Project, owner, owner_client: Client, next_value: str
):
    integration = make_integration(project, owner, "Amplitude prod")
    response = owner_client.post(status_url(integration), {"status": "active", "next": next_value})
    assert response.status_code == 302
    assert response["Location"] == reverse("project_detail", kwargs={"project_id": project.pk})
    integration.refresh_from_db()
    assert integration.status == Status.ACTIVE


@pytest.mark.django_db
def test_a_next_path_on_this_site_is_followed(project: Project, owner, owner_client: Client):
    integration = make_integration(project, owner, "Amplitude prod")
    back = reverse("project_detail", kwargs={"project_id": project.pk}) + "?status=active"
    response = owner_client.post(status_url(integration), {"status": "active", "next": back})
    assert response["Location"] == back


@pytest.mark.django_db
@pytest.mark.parametrize("next_value", NOT_PATHS)
def test_sign_in_pages_ignore_a_next_that_is_not_a_path(owner_client: Client, client: Client, owner, next_value: str):
    # Signed in: the login page sends the person on at once.
    response = owner_client.get(reverse("login"), {"next": next_value})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    # Signed out: the form posts back a next that is only ever a path.
    response = client.post(reverse("login") + f"?next={next_value}", {"username": "alice", "password": "password"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://[::1"},
        {"HTTP_HX_REQUEST": "yes\x00", "HTTP_HX_TARGET": "\udcff"},
        {"HTTP_REFERER": "http://[::1"},
        {"HTTP_ACCEPT_LANGUAGE": "\x00;q=zz,,,"},
        {"HTTP_HX_HISTORY_RESTORE_REQUEST": "maybe", "HTTP_HX_REQUEST": "true"},
    ],
)
def test_pages_tolerate_garbage_headers(project: Project, owner_client: Client, headers: dict[str, str]):
    for url in (
        reverse("home"),
        reverse("team_detail", kwargs={"team_slug": project.team.slug}),
        reverse("project_detail", kwargs={"project_id": project.pk}),
    ):
        response = owner_client.get(url, follow=False, **headers)
        assert response.status_code in (200, 302), (url, headers, response.status_code)
