"""Text that reads differently than it is, and pages a shared computer keeps: direction
controls are refused in what people type and made visible in what Qonversion sends;
signed-in pages are never stored by a cache."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Integration
from qonadmin.text import reveal_bidi_controls
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import HTMX, SANDBOX_KEY

SPOOF = "safe\u202egnp.exe"


def test_direction_controls_are_made_visible():
    assert reveal_bidi_controls(SPOOF) == "safe[U+202E]gnp.exe"
    assert reveal_bidi_controls("Amplitude — Production") == "Amplitude — Production"


@pytest.mark.django_db
def test_a_typed_title_with_a_direction_control_is_refused_and_kept(
    project: Project, owner_client: Client, sandbox: SandboxControl
):
    url = reverse("integration_create", kwargs={"project_id": project.pk})
    data = {"title": SPOOF, "provider": "slack", "platform": "iOS", "idempotency_key": str(uuid.uuid4())}
    html = owner_client.post(url, data, **HTMX).content.decode()
    assert "Remove the invisible direction marks" in html
    assert not Integration.objects.exists()
    assert sandbox.requests() == [] or all(r["method"] != "POST" for r in sandbox.requests())


@pytest.mark.django_db
def test_a_project_name_with_a_direction_control_is_refused(team, make_member, sandbox: SandboxControl):
    client = Client()
    client.force_login(make_member("adam", "admin"))
    url = reverse("project_new", kwargs={"team_slug": team.slug})
    html = client.post(url, {"name": "Acme\u202e", "secret_key": SANDBOX_KEY}).content.decode()
    assert "Remove the invisible direction marks" in html
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_an_upstream_title_with_a_direction_control_is_shown_visibly(
    project: Project, owner_client: Client, sandbox: SandboxControl
):
    sandbox.create_external(key=SANDBOX_KEY, title=SPOOF, integration="slack", target_platform="iOS")
    owner_client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), **HTMX)
    integration = Integration.objects.get()
    assert integration.title == "safe[U+202E]gnp.exe"
    for url in (
        reverse("project_detail", kwargs={"project_id": project.pk}),
        reverse("integration_detail", kwargs={"project_id": project.pk, "integration_id": integration.pk}),
        reverse("integration_delete", kwargs={"project_id": project.pk, "integration_id": integration.pk}),
    ):
        html = owner_client.get(url).content.decode()
        assert "\u202e" not in html, url
    detail = reverse("integration_detail", kwargs={"project_id": project.pk, "integration_id": integration.pk})
    assert "<title>safe[U+202E]gnp.exe" in owner_client.get(detail).content.decode()


@pytest.mark.django_db
def test_signed_in_pages_are_not_stored(project: Project, owner_client: Client, client: Client):
    for url in (
        reverse("home"),
        reverse("team_detail", kwargs={"team_slug": project.team.slug}),
        reverse("project_detail", kwargs={"project_id": project.pk}),
    ):
        cache_control = owner_client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url
    refresh = owner_client.post(reverse("project_refresh", kwargs={"project_id": project.pk}), **HTMX)
    assert "no-store" in refresh["Cache-Control"]
