"""Qonversion (or a proxy in front of it) may echo the secret key in an error message or
an integration's fields. Wherever such text is stored or shown (audit page, CSV export,
Django admin, the mirror, messages, logs), the key is masked by the same rule as the logs."""

import logging
import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from integrations.models import Integration
from qonadmin.redaction import redact, redact_value
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import HTMX, SANDBOX_KEY, login
from tests.factories import make_integration


def assert_keyless(text: str, where: str) -> None:
    assert SANDBOX_KEY not in text, f"the secret key is shown in {where}"
    assert SANDBOX_KEY.removeprefix("test_sk_") not in text, f"the key's body is shown in {where}"


def test_redact_masks_keys_in_nested_values():
    value = {"upstream": {"message": f"boom for key {SANDBOX_KEY}", "details": [{"message": "sk_live_1234567"}]}}
    assert redact_value(value) == {
        "upstream": {"message": "boom for key test_sk_[redacted]", "details": [{"message": "sk_[redacted]"}]}
    }
    assert redact("nothing secret here") == "nothing secret here"


@pytest.mark.django_db
def test_an_upstream_error_echoing_the_key_is_masked_in_the_audit_log_csv_and_admin(
    project: Project, owner: User, owner_client: Client, sandbox: SandboxControl, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    create = reverse("integration_create", kwargs={"project_id": project.pk})
    owner_client.get(create, **HTMX)  # the provider list, before the fault
    sandbox.add_fault(
        method="POST", path_prefix="/v4/integrations", status=500, message=f"boom for key {SANDBOX_KEY}", times=3
    )
    data = {"title": "Echoed", "provider": "slack", "platform": "iOS", "idempotency_key": str(uuid.uuid4())}
    html = owner_client.post(create, data, **HTMX).content.decode()
    assert_keyless(html, "the create form's message")

    event = AuditEvent.objects.get(action="integration.create", outcome="unknown")
    assert_keyless(str(event.detail), "the stored audit detail")
    assert "test_sk_[redacted]" in event.detail["upstream"]["message"]

    audit_page = owner_client.get(reverse("team_audit", kwargs={"team_slug": project.team.slug}))
    assert_keyless(audit_page.content.decode(), "the audit page")
    assert "boom for key test_sk_[redacted]" in audit_page.content.decode()
    csv = owner_client.get(reverse("team_audit_csv", kwargs={"team_slug": project.team.slug}))
    assert_keyless(b"".join(csv.streaming_content).decode(), "the CSV export")  # type: ignore[attr-defined]

    admin = login(User.objects.create_superuser("root", "root@example.com", "password"))
    listing = admin.get(reverse("admin:audit_auditevent_changelist"))
    assert_keyless(listing.content.decode(), "Django admin's audit list")
    change = admin.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert change.status_code == 200
    assert_keyless(change.content.decode(), "Django admin's audit event page")
    assert "test_sk_[redacted]" in change.content.decode()
    assert_keyless(caplog.text, "the logs")


@pytest.mark.django_db
def test_a_key_in_an_integrations_fields_upstream_is_masked_in_the_mirror_and_pages(
    project: Project, owner: User, owner_client: Client, sandbox: SandboxControl
):
    integration = make_integration(project, owner, f"Leaky {SANDBOX_KEY}", active=True)
    sandbox.deliveries(
        key=SANDBOX_KEY,
        integration_id=integration.qonversion_id,
        outcome="failure",
        count=5,
        message=f"401 from the webhook with {SANDBOX_KEY}",
    )
    refresh = reverse("project_refresh", kwargs={"project_id": project.pk})
    owner_client.post(refresh, **HTMX)
    row = Integration.objects.get(pk=integration.pk)
    assert_keyless(row.title + row.last_error_message, "the mirror")
    for url in (
        reverse("project_detail", kwargs={"project_id": project.pk}),
        reverse("team_detail", kwargs={"team_slug": project.team.slug}),
        reverse("integration_detail", kwargs={"project_id": project.pk, "integration_id": integration.pk}),
        reverse("team_audit", kwargs={"team_slug": project.team.slug}),
    ):
        assert_keyless(owner_client.get(url).content.decode(), url)
    create_event = AuditEvent.objects.get(action="integration.create")
    assert_keyless(create_event.target_repr + str(create_event.detail), "the create event")
