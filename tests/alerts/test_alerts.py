"""Being told when an integration breaks: once per transition, by email and in the log."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Project, Role
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
    assert "1 integration in Error in Acme iOS" in message.subject
    assert "Legacy webhook" in message.body and "401 from endpoint: bad key" in message.body
    assert (
        AuditEvent.objects.filter(action="integration.error_detected", target_id=integration.qonversion_id).count() == 1
    )
    project_sync(project=watched)
    assert len(mail.outbox) == 1  # still broken: no second alert


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


@pytest.mark.django_db(transaction=True)
def test_the_worker_refreshes_due_projects(watched, owner, sandbox: SandboxControl, capsys):
    integration = make_integration(watched, owner, "Webhook", active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5)
    Project.objects.filter(pk=watched.pk).update(synced_at=timezone.now() - timedelta(minutes=1))  # due
    call_command("sync_worker", "--once", "--interval", "5")
    watched.refresh_from_db()
    out = capsys.readouterr().out
    assert "refreshed 1 project(s), 0 failed" in out
    assert "1 went into Error" in out
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_mail_failure_does_not_break_the_refresh(watched, owner, sandbox: SandboxControl, monkeypatch, caplog):
    def broken_send(*args: object, **kwargs: object) -> None:
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    monkeypatch.setattr("alerts.services.send_mail", broken_send)
    integration = make_integration(watched, owner, "Webhook", active=True)
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=integration.qonversion_id, outcome="failure", count=5)
    assert project_sync(project=watched).newly_broken == 1
    assert "could not send the error alert" in caplog.text
    assert AuditEvent.objects.filter(action="integration.error_detected").count() == 1


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

    monkeypatch.setattr("integrations.management.commands.sync_worker.project_sync", flaky_sync)
    Project.objects.update(synced_at=None)
    call_command("sync_worker", "--once", "--interval", "5")
    assert sorted(calls) == ["Acme iOS", "Other"]
    assert "refreshed 1 project(s), 1 failed" in capsys.readouterr().out
