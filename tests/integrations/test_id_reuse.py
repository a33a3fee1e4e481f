"""The mirror never trusts an id it has seen deleted (docs/mirror-rules.md).

Qonversion never hands an id out twice, but a sandbox restarted without its state does
(the same seed mints the same ids again): a create or a list naming an id whose row is
deleted here is either that same record (it stays deleted) or another record (the row
shows Qonversion's current values, and the audit log says the id was reused)."""

import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditEvent
from integrations.errors import IntegrationError
from integrations.models import Integration, IntegrationChange, Status
from integrations.selectors import live_integrations
from integrations.services import integration_create, integration_delete
from integrations.sync import ID_REUSED_NOTE, project_sync
from integrations.views.integration_create import EARLIER_ATTEMPT
from sandbox.config import SandboxConfig
from sandbox.control_client import SandboxControl
from sandbox.server import running_sandbox
from teams.models import Project
from tests.conftest import HTMX, SANDBOX_KEY, login


def create(project: Project, actor, title: str, *, key: str | None = None) -> Integration:
    return integration_create(
        project=project,
        actor=actor,
        title=title,
        provider_slug="slack",
        platform="iOS",
        idempotency_key=key or str(uuid.uuid4()),
    )


def form_data(title: str) -> dict[str, str]:
    return {"title": title, "provider": "amplitude", "platform": "iOS", "idempotency_key": str(uuid.uuid4())}


@pytest.fixture
def listing_deleted_sandbox(project: Project, settings) -> Iterator[SandboxControl]:
    """A Qonversion that still lists soft-deleted records (contract §3.1 / §12.5 allow it)."""
    with running_sandbox(SandboxConfig(seed=7, deleted_in_list=True)) as root:
        settings.QONVERSION_API_BASE = f"{root}/v4"
        cache.clear()
        yield SandboxControl(f"{root}/v4")


@pytest.mark.django_db
def test_a_create_answered_with_a_deleted_rows_id_shows_created_with_the_new_title(
    project: Project, owner, sandbox: SandboxControl
):
    old = create(project, owner, "Old webhook")
    integration_delete(integration=old, actor=owner)
    sandbox.reset()  # a restart without state: the same seed mints the same ids again

    response = login(owner).post(
        reverse("integration_create", kwargs={"project_id": project.pk}), form_data("Amplitude — new"), **HTMX
    )

    html = response.content.decode()
    assert "Created “Amplitude — new” (Amplitude, iOS)" in html
    assert "Old webhook" not in html
    row = Integration.objects.get(project=project)  # one row: the old one, given to the new record
    assert row.qonversion_id == old.qonversion_id
    assert (row.title, row.provider_name, row.provider_slug, row.status) == (
        "Amplitude — new",
        "Amplitude",
        "amplitude",
        Status.PAUSED,
    )
    assert row.deleted_at is None and row.deleted_by is None
    assert row.created_by == owner
    assert list(live_integrations(project)) == [row]
    event = AuditEvent.objects.filter(action="integration.create", outcome="success").latest("pk")
    assert event.target_id == old.qonversion_id
    assert event.target_repr == "Amplitude — new"
    assert event.detail["id_reused"]["note"] == ID_REUSED_NOTE
    assert event.detail["id_reused"]["previous"]["title"] == "Old webhook"
    assert event.detail["id_reused"]["previous"]["deleted_at"] is not None
    # Its health history starts again with the new record's first sighting.
    assert IntegrationChange.objects.filter(integration=row).latest("pk").previous_status == ""

    project_sync(project=project)  # and the refresh keeps it, live, with its new values
    row.refresh_from_db()
    assert (row.title, row.deleted_at) == ("Amplitude — new", None)


@pytest.mark.django_db
def test_a_list_after_a_confirmed_delete_that_still_shows_the_id_keeps_the_row_deleted(
    project: Project, owner, listing_deleted_sandbox: SandboxControl
):
    integration = create(project, owner, "Slack #revenue")
    integration_delete(integration=integration, actor=owner)
    deleted_at = Integration.objects.get(pk=integration.pk).deleted_at

    result = project_sync(project=project)

    row = Integration.objects.get(pk=integration.pk)
    assert result.total == 1  # Qonversion still lists it (soft-deleted, shown as paused)
    assert (result.added, result.updated, result.removed) == (0, 0, 0)
    assert row.deleted_at == deleted_at  # deletion is permanent: still deleted, same time
    assert row.deleted_by == owner
    assert not live_integrations(project).exists()
    assert not AuditEvent.objects.filter(action="integration.id_reused").exists()


@pytest.mark.django_db
def test_a_refresh_listing_another_record_under_a_deleted_id_shows_that_record(
    project: Project, owner, sandbox: SandboxControl
):
    old = create(project, owner, "Old webhook")
    integration_delete(integration=old, actor=owner)
    sandbox.reset()
    made = sandbox.create_external(
        key=SANDBOX_KEY, title="Made in Qonversion", integration="mixpanel", target_platform="Android", active=1
    )
    assert made["id"] == old.qonversion_id

    result = project_sync(project=project)

    row = Integration.objects.get(pk=old.pk)
    assert result.added == 1
    assert (row.title, row.provider_name, row.platform, row.status) == (
        "Made in Qonversion",
        "Mixpanel",
        "Android",
        Status.ACTIVE,
    )
    assert (row.deleted_at, row.deleted_by, row.created_by) == (None, None, None)  # created elsewhere
    event = AuditEvent.objects.get(action="integration.id_reused")
    assert event.detail["note"] == ID_REUSED_NOTE
    assert event.detail["previous"]["title"] == "Old webhook"
    assert event.actor_id is None


@pytest.mark.django_db
def test_a_second_demo_run_against_a_sandbox_restarted_without_state_shows_the_new_records(
    project: Project, owner, sandbox: SandboxControl
):
    # First run: two integrations, one deleted by someone.
    kept = create(project, owner, "Amplitude — Production iOS")
    removed = create(project, owner, "Legacy webhook")
    integration_delete(integration=removed, actor=owner)

    sandbox.reset()  # second run: the sandbox starts again, empty, with the same seed
    project_sync(project=project)  # what seed_demo and the page do first: both rows are gone upstream
    assert not live_integrations(project).exists()

    first = create(project, owner, "Braze — retention")  # gets the first run's first id again
    second = create(project, owner, "Segment web checkout")  # and the second one's
    assert (first.qonversion_id, second.qonversion_id) == (kept.qonversion_id, removed.qonversion_id)
    project_sync(project=project)

    shown = {row.qonversion_id: row.title for row in live_integrations(project)}
    assert shown == {kept.qonversion_id: "Braze — retention", removed.qonversion_id: "Segment web checkout"}
    assert Integration.objects.filter(project=project, deleted_at__isnull=False).count() == 0
    notes = AuditEvent.objects.filter(action="integration.create", detail__has_key="id_reused")
    assert notes.count() == 2


@pytest.mark.django_db
def test_a_replayed_create_of_an_integration_deleted_since_is_not_shown_as_created(
    project: Project, owner, sandbox: SandboxControl
):
    integration = create(project, owner, "Slack #revenue", key="same-submission")
    integration_delete(integration=integration, actor=owner)

    with pytest.raises(IntegrationError) as raised:
        create(project, owner, "Slack #revenue", key="same-submission")  # Qonversion replays the first answer

    assert raised.value.conflict  # the form starts a new submission
    assert "already sent" in str(raised.value)
    row = Integration.objects.get(pk=integration.pk)
    assert row.deleted_at is not None  # not revived
    event = AuditEvent.objects.filter(action="integration.create").latest("pk")
    assert event.outcome == "failure"
    assert "deleted since" in event.detail["refused"]


@pytest.mark.django_db
def test_the_form_explains_a_replay_of_a_deleted_integration(project: Project, owner, sandbox: SandboxControl):
    client = login(owner)
    url = reverse("integration_create", kwargs={"project_id": project.pk})
    data = form_data("Amplitude — once")
    client.post(url, data, **HTMX)
    integration_delete(integration=Integration.objects.get(project=project), actor=owner)

    html = client.post(url, data, **HTMX).content.decode()  # the same form sent again

    assert "Created “" not in html
    assert EARLIER_ATTEMPT in html
    assert data["idempotency_key"] not in html  # a new submission key for the next try
