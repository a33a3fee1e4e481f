"""Being told when an integration breaks: once per transition, by email and in the log.

Without alert channels the team's owners and admins get the email (alerts/services.py);
it is sent by a task, which runs inline here (ImmediateBackend)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from alerts.models import AlertDelivery, DeliveryStatus
from audit.models import AuditEvent
from integrations.services import integration_set_status
from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Project, Role
from tests.alerts.conftest import IMMEDIATE_TASKS
from tests.conftest import SANDBOX_KEY
from tests.factories import make_integration


@pytest.fixture
def watched(project: Project, owner, make_member):
    owner.email = "alice@example.com"
    owner.save()
    admin = make_member("adam", Role.ADMIN)
    admin.email = "adam@example.com"
    admin.save()
    make_member("bob", Role.MEMBER).email = "bob@example.com"  # members are not alerted
    project_sync(project=project)
    return project


@override_settings(TASKS=IMMEDIATE_TASKS)
@pytest.mark.django_db(transaction=True)
def test_a_refresh_that_sees_an_integration_break_tells_owners_and_admins_once(watched, owner, sandbox: SandboxControl):
    integration = make_integration(watched, owner, "Legacy webhook", active=True)
    sandbox.deliveries(
        key=SANDBOX_KEY,
        integration_id=integration.qonversion_id,
        outcome="failure",
        count=5,
        message="401 from endpoint: bad key",
    )
    result = project_sync(project=watched)
    assert result.newly_broken == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["adam@example.com", "alice@example.com"]
    assert message.subject == "[qonadmin] “Legacy webhook” is in Error in Acme iOS"
    assert "Legacy webhook" in message.body and "401 from endpoint: bad key" in message.body
    assert (
        AuditEvent.objects.filter(action="integration.error_detected", target_id=integration.qonversion_id).count() == 1
    )
    project_sync(project=watched)
    assert len(mail.outbox) == 1  # still broken: no second alert
    assert AuditEvent.objects.filter(action="integration.error_detected").count() == 1


@override_settings(TASKS=IMMEDIATE_TASKS)
@pytest.mark.django_db(transaction=True)
def test_activating_a_broken_integration_tells_owners_and_admins_it_recovered(watched, owner, sandbox):
    integration = make_integration(watched, owner, "Legacy webhook", active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5)
    project_sync(project=watched)
    integration.refresh_from_db()
    integration_set_status(integration=integration, actor=owner, active=True)
    assert [m.subject for m in mail.outbox] == [
        "[qonadmin] “Legacy webhook” is in Error in Acme iOS",
        "[qonadmin] “Legacy webhook” recovered in Acme iOS",
    ]
    assert AuditEvent.objects.filter(action="integration.recovered", target_id=integration.qonversion_id).count() == 1
    project_sync(project=watched)  # Active again upstream: nothing more to tell
    assert len(mail.outbox) == 2


@override_settings(TASKS=IMMEDIATE_TASKS)
@pytest.mark.django_db(transaction=True)
def test_the_first_refresh_of_a_project_does_not_alert_about_old_breakage(team, owner, sandbox: SandboxControl):
    owner.email = "alice@example.com"
    owner.save()
    project = Project(team=team, name="Fresh")
    project.set_secret_key("test_sk_fresh_project_key")
    project.save()
    created = sandbox.create_external(
        key="test_sk_fresh_project_key", title="Old break", integration="slack", target_platform="iOS", active=1
    )
    sandbox.deliveries(key="test_sk_fresh_project_key", integration_id=created["id"], outcome="failure", count=5)
    assert project_sync(project=project).newly_broken == 0
    assert mail.outbox == []
    assert not AlertDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_refreshes_due_projects(watched, owner, sandbox: SandboxControl, capsys):
    integration = make_integration(watched, owner, "Webhook", active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5)
    Project.objects.filter(pk=watched.pk).update(next_sync_at=timezone.now() - timedelta(minutes=1))  # due
    call_command("sync_integrations", "--now")
    watched.refresh_from_db()
    out = capsys.readouterr().out
    assert "Acme iOS: refreshed: 1 listed" in out
    assert "Ran 1 project sync(s), 0 failed unexpectedly." in out
    assert len(mail.outbox) == 1


@override_settings(TASKS=IMMEDIATE_TASKS)
@pytest.mark.django_db(transaction=True)
def test_a_mail_failure_does_not_break_the_refresh(watched, owner, sandbox: SandboxControl, monkeypatch, caplog):
    def broken_send(*args: object, **kwargs: object) -> None:
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    monkeypatch.setattr("alerts.transports.send_mail", broken_send)
    integration = make_integration(watched, owner, "Webhook", active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5)
    assert project_sync(project=watched).newly_broken == 1
    assert AuditEvent.objects.filter(action="integration.error_detected").count() == 1
    delivery = AlertDelivery.objects.get()
    # Kept for a later try, with the reason on the Alerts page.
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "Header values may not contain linefeed" in delivery.last_error
    assert "try 1 failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_a_project_that_fails_unexpectedly(watched, team, monkeypatch, capsys):
    other = Project(team=team, name="Other")
    other.set_secret_key("test_sk_other_worker_key")
    other.save()
    calls: list[str] = []

    def flaky_sync(*, project: Project):
        calls.append(project.name)
        if project.name == "Acme iOS":
            raise RuntimeError("unexpected")
        return project_sync(project=project)

    monkeypatch.setattr("integrations.scheduling.project_sync", flaky_sync)
    Project.objects.update(next_sync_at=None)
    call_command("sync_integrations", "--now")
    assert sorted(calls) == ["Acme iOS", "Other"]
    assert "Ran 2 project sync(s), 1 failed unexpectedly." in capsys.readouterr().out
