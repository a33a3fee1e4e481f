"""Every URL of the app, for every verb it accepts: outsiders get 404, members whose
role does not allow the action get 403, and neither reaches Qonversion."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from django.utils import timezone

from integrations.models import BulkJob, Integration, Status
from sandbox.control_client import SandboxControl
from teams.models import Invitation, Membership, Project, Role
from tests.conftest import HTMX, login

VIEW, OPERATE, ADMIN, OWNER = Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER
RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}

# Every named route of the integrations app, the verbs it accepts, and the least
# role each verb needs. A new route must be added here, or the sweep fails.
ROUTES: dict[str, dict[str, str]] = {
    "team_detail": {"GET": VIEW},
    "team_members": {"GET": VIEW, "POST": ADMIN},
    "member_role": {"POST": ADMIN},
    "member_remove": {"POST": ADMIN},
    "invitation_resend": {"POST": ADMIN},
    "invitation_revoke": {"POST": ADMIN},
    "team_audit": {"GET": ADMIN},
    "team_audit_csv": {"GET": ADMIN},
    "project_new": {"GET": ADMIN, "POST": ADMIN},
    "team_delete": {"GET": OWNER, "POST": OWNER},
    "team_security": {"GET": OWNER, "POST": OWNER},
    "team_alerts": {"GET": VIEW, "POST": ADMIN},  # every member sees it; admins add channels
    "team_alerts_mute": {"POST": VIEW},  # each member, for themselves
    "team_alert_channel_test": {"POST": ADMIN},
    "team_alert_channel_enabled": {"POST": ADMIN},
    "team_alert_channel_remove": {"POST": ADMIN},
    "project_detail": {"GET": VIEW},
    "project_refresh": {"POST": VIEW},  # refreshes the mirror; viewers may
    "project_try_now": {"POST": VIEW},  # ends the breaker's cool-off, then refreshes
    "project_settings": {"GET": ADMIN},
    "project_key": {"POST": ADMIN},
    "project_delete": {"POST": ADMIN},
    "integration_create": {"GET": OPERATE, "POST": OPERATE},
    "integration_bulk": {"POST": OPERATE},
    "integration_bulk_job": {"GET": OPERATE},
    "integration_detail": {"GET": VIEW},
    "integration_status": {"POST": OPERATE},
    "integration_delete": {"GET": OPERATE, "POST": OPERATE},
}
PUBLIC = {"home", "invitation"}  # the invitation link is its own credential


def team_scoped_routes() -> set[str]:
    """Routes of our apps: every teams, audit, integrations and alerts route, and accounts routes under a team."""
    names = set()
    for pattern in get_resolver().url_patterns:
        for inner in getattr(pattern, "url_patterns", []):
            if not isinstance(inner, URLPattern) or not inner.name:
                continue
            module = inner.callback.__module__
            if module.startswith(("teams.", "audit.", "integrations.", "alerts.")) or (
                module.startswith("accounts.") and "team_slug" in str(inner.pattern)
            ):
                names.add(inner.name)
    return names


@pytest.fixture
def targets(project: Project, owner: User) -> dict[str, object]:
    now = timezone.now()
    integration = Integration.objects.create(
        project=project,
        qonversion_id="abc123",
        title="Existing",
        provider_name="Slack",
        platform="iOS",
        status=Status.ACTIVE,
        upstream_created_at=now,
        upstream_updated_at=now,
    )
    invitation = Invitation.objects.create(
        team=project.team,
        email="new@example.com",
        role=Role.MEMBER,
        token_hash=uuid.uuid4().hex,
        expires_at=now + timedelta(days=7),
    )
    return {
        "project": project,
        "integration": integration,
        "invitation": invitation,
        "membership": Membership.objects.get(user=owner, team=project.team),
        "bulk_job": BulkJob.objects.create(project=project, actor=owner, action="pause", integration_ids=[]),
    }


def url_for(name: str, targets: dict[str, object]) -> str:
    project = targets["project"]
    assert isinstance(project, Project)
    team_slug = project.team.slug
    kwargs: dict[str, object]
    if name in ("member_role", "member_remove"):
        kwargs = {"team_slug": team_slug, "membership_id": targets["membership"].pk}  # type: ignore[attr-defined]
    elif name.startswith("invitation_"):
        kwargs = {"team_slug": team_slug, "invitation_id": targets["invitation"].pk}  # type: ignore[attr-defined]
    elif name.startswith(("team_", "project_new")):
        kwargs = {"team_slug": team_slug}
    elif name == "integration_bulk_job":
        kwargs = {"project_id": project.pk, "job_id": targets["bulk_job"].pk}  # type: ignore[attr-defined]
    elif name.startswith("integration_") and name not in ("integration_create", "integration_bulk"):
        kwargs = {"project_id": project.pk, "integration_id": targets["integration"].pk}  # type: ignore[attr-defined]
    else:
        kwargs = {"project_id": project.pk}
    return reverse(name, kwargs=kwargs)


def call(client: Client, method: str, url: str, **extra: str):
    data = {
        "title": "x",
        "provider": "slack",
        "platform": "iOS",
        "idempotency_key": str(uuid.uuid4()),
        "status": "paused",
        "action": "pause",
        "ids": [str(i) for i in Integration.objects.values_list("pk", flat=True)],
        "confirm": "yes",
        "role": "viewer",
        "email": "someone@example.com",
        "name": "New project",
        "secret_key": "test_sk_some_new_key",
        "confirm_name": "Acme",
    }
    if method == "GET":
        return client.get(url, **extra)
    return client.post(url, data, **extra)


def test_the_sweep_covers_every_route():
    assert team_scoped_routes() == set(ROUTES) | PUBLIC


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [False, True])
def test_an_outsider_gets_404_everywhere(targets, outsider, sandbox: SandboxControl, htmx: bool):
    client = login(outsider)
    sandbox.clear_requests()
    for name, verbs in ROUTES.items():
        for method in verbs:
            response = call(client, method, url_for(name, targets), **(HTMX if htmx else {}))
            assert response.status_code == 404, (name, method, response.status_code)
    assert sandbox.requests() == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.ADMIN])
def test_a_role_gets_403_where_it_may_not_act_and_no_upstream_call(targets, make_member, sandbox, role: str):
    client = login(make_member(f"someone-{role}", role))
    for name, verbs in ROUTES.items():
        for method, least in verbs.items():
            if RANK[role] >= RANK[least]:
                continue
            sandbox.clear_requests()
            response = call(client, method, url_for(name, targets), **HTMX)
            assert response.status_code == 403, (role, name, method, response.status_code)
            assert sandbox.requests() == [], (role, name, method)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER])
def test_a_role_can_open_every_page_it_may_see(targets, make_member, sandbox, role: str):
    client = login(make_member(f"someone-{role}", role))
    for name, verbs in ROUTES.items():
        if "GET" in verbs and RANK[role] >= RANK[verbs["GET"]]:
            response = call(client, "GET", url_for(name, targets))
            assert response.status_code == 200, (role, name, response.status_code)


@pytest.mark.django_db
def test_a_missing_project_is_404_not_500(owner_client: Client):
    assert owner_client.get(reverse("project_detail", kwargs={"project_id": 999999})).status_code == 404


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(targets, client: Client, sandbox: SandboxControl):
    for name, verbs in ROUTES.items():
        for method in verbs:
            response = call(client, method, url_for(name, targets))
            assert response.status_code == 302, (name, method)
            assert "/login/" in response["Location"], (name, method)
    assert sandbox.requests() == []


@pytest.mark.django_db
def test_unsafe_requests_without_a_csrf_token_are_refused(targets, owner, sandbox: SandboxControl):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    for name, verbs in ROUTES.items():
        if "POST" in verbs:
            assert call(client, "POST", url_for(name, targets), **HTMX).status_code == 403, name
    assert sandbox.requests() == []
    assert Project.objects.exists()


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


GARBAGE_HEADERS = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://[::1",
    "HTTP_HX_TARGET": "\x00;env;",
    "HTTP_HX_TRIGGER": "{{7*7}}",
    "HTTP_HX_HISTORY_RESTORE_REQUEST": "maybe",
    "HTTP_REFERER": "http://[",
    "HTTP_ACCEPT_LANGUAGE": ";q=nan,,*",
    "HTTP_USER_AGENT": "\udcff" * 10,
}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), [(name, method) for name, verbs in ROUTES.items() for method in verbs])
@pytest.mark.parametrize(
    "headers", [GARBAGE_HEADERS, {k: v for k, v in GARBAGE_HEADERS.items() if k != "HTTP_HX_REQUEST"}]
)
def test_no_route_answers_5xx_to_garbage_headers_and_parameters(
    targets, owner, sandbox: SandboxControl, name: str, method: str, headers: dict[str, str]
):
    client = login(owner)
    url = url_for(name, targets) + "?next=%3Benv%3B&status=%00&q=" + "x" * 500
    response = call(client, method, url, **headers)
    assert response.status_code < 500, (name, method, response.status_code)
