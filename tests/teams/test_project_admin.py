"""Projects and their keys: checked with Qonversion, stored encrypted, shown masked."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from integrations.models import Integration
from sandbox.control_client import SandboxControl
from teams.models import Project, Role, Team
from tests.conftest import SANDBOX_KEY, login
from tests.factories import make_integration

NEW_KEY = "test_sk_brand_new_project_key"


@pytest.mark.django_db
def test_an_admin_adds_a_project_after_qonversion_accepts_its_key(team: Team, make_member, sandbox: SandboxControl):
    client = login(make_member("adam", Role.ADMIN))
    sandbox.clear_requests()
    response = client.post(
        reverse("project_new", kwargs={"team_slug": team.slug}),
        {"name": "Acme Android", "secret_key": NEW_KEY},
        follow=True,
    )
    project = Project.objects.get(name="Acme Android")
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("project_detail", kwargs={"project_id": project.pk})
    assert "test_sk_…_key" in html and NEW_KEY not in html
    assert project.environment == "sandbox" and project.secret_key() == NEW_KEY
    assert NEW_KEY not in project.secret_key_encrypted
    assert any(r["path"] == "/v4/integrations/meta" for r in sandbox.requests())
    event = AuditEvent.objects.get(action="project.create", outcome="success")
    assert event.detail["after"] == {"key_hint": "test_sk_…_key", "environment": "sandbox"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("test_sk_revoked_key_1", "Qonversion rejected this key (401 control_unauthorized)."),
        ("not-a-key", "A Qonversion secret key starts with sk_ (production) or test_sk_ (sandbox)."),
        ("test_sk_pasted\u200bwith_zero_width_space", "The key contains characters a secret key cannot have"),
    ],
)
def test_a_bad_key_is_refused_and_never_rendered_back(
    team: Team, owner_client: Client, sandbox, key: str, message: str
):
    response = owner_client.post(
        reverse("project_new", kwargs={"team_slug": team.slug}), {"name": "Bad", "secret_key": key}
    )
    html = response.content.decode()
    assert message in html
    assert key not in html  # the name is kept, the key is not
    assert 'value="Bad"' in html
    assert not Project.objects.filter(name="Bad").exists()


@pytest.mark.django_db
def test_an_unreachable_qonversion_saves_nothing(team: Team, owner_client: Client, sandbox: SandboxControl):
    sandbox.add_fault(method="GET", status=503, times=3)
    html = owner_client.post(
        reverse("project_new", kwargs={"team_slug": team.slug}), {"name": "Later", "secret_key": NEW_KEY}
    ).content.decode()
    assert "Qonversion had an internal error (503). Nothing was saved" in html
    assert not Project.objects.filter(name="Later").exists()


@pytest.mark.django_db
def test_replacing_a_key_never_shows_the_old_one(project: Project, owner_client: Client, owner):
    settings_page = owner_client.get(reverse("project_settings", kwargs={"project_id": project.pk})).content.decode()
    assert SANDBOX_KEY not in settings_page and project.key_hint in settings_page
    assert 'type="password"' in settings_page
    response = owner_client.post(
        reverse("project_key", kwargs={"project_id": project.pk}),
        {"secret_key": "test_sk_replacement_abcd"},
        follow=True,
    )
    assert "Replaced the key of Acme iOS: test_sk_…_key → test_sk_…abcd." in response.content.decode()
    project.refresh_from_db()
    assert project.secret_key() == "test_sk_replacement_abcd"
    event = AuditEvent.objects.get(action="project.key_replaced", outcome="success")
    assert (
        event.detail["before"]["key_hint"] == "test_sk_…_key" and event.detail["after"]["key_hint"] == "test_sk_…abcd"
    )


@pytest.mark.django_db
def test_switching_environment_starts_a_fresh_mirror(project: Project, owner_client: Client, owner):
    make_integration(project, owner, "Sandbox only")
    owner_client.post(
        reverse("project_key", kwargs={"project_id": project.pk}), {"secret_key": "sk_production_key_9f3a"}
    )
    project.refresh_from_db()
    assert project.environment == "production" and project.key_hint == "sk_…9f3a"
    assert not Integration.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_removing_a_project_keeps_its_audit_history(project: Project, owner_client: Client, owner):
    make_integration(project, owner, "Gone with it")
    url = reverse("project_delete", kwargs={"project_id": project.pk})
    assert "Type “Acme iOS” exactly" in owner_client.post(url, {"confirm_name": "acme"}).content.decode()
    owner_client.post(url, {"confirm_name": "Acme iOS"})
    assert not Project.objects.exists()
    history = AuditEvent.objects.filter(project_name="Acme iOS")
    assert {"integration.create", "project.deleted"} <= set(history.values_list("action", flat=True))
    assert all(event.project_id == project.pk for event in history)  # the rows keep what they recorded


@pytest.mark.django_db
def test_an_owner_deletes_the_team(team: Team, project: Project, owner_client: Client):
    url = reverse("team_delete", kwargs={"team_slug": team.slug})
    owner_client.post(url, {"confirm_name": "Acme"})
    assert not Team.objects.exists() and not Project.objects.exists()
    assert AuditEvent.objects.filter(action="team.deleted").count() == 1


@pytest.mark.django_db
def test_a_project_name_with_a_line_break_is_refused(team: Team, owner_client: Client, sandbox):
    response = owner_client.post(
        reverse("project_new", kwargs={"team_slug": team.slug}), {"name": "Acme\niOS", "secret_key": NEW_KEY}
    )
    assert "no line breaks or tabs" in response.content.decode()
    assert not Project.objects.filter(name__startswith="Acme\n").exists()
