"""The mirror refresh under concurrency and with upstream changes."""

import threading

import pytest
from django.db import connection

from integrations.clients import client_for_project
from integrations.models import Integration, Status
from integrations.qonversion import QonversionClient
from integrations.services import integration_delete, integration_set_status
from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.conftest import SANDBOX_KEY
from tests.factories import make_integration


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_leave_one_row_per_integration(project: Project, sandbox: SandboxControl):
    for n in range(20):
        sandbox.create_external(key=SANDBOX_KEY, title=f"External {n}", integration="slack", target_platform="iOS")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def refresh() -> None:
        try:
            barrier.wait()
            project_sync(project=Project.objects.get(pk=project.pk))
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Integration.objects.filter(project=project).count() == 20


@pytest.mark.django_db
def test_a_quiet_refresh_writes_nothing_but_the_sync_time(project: Project, sandbox: SandboxControl):
    for n in range(5):
        sandbox.create_external(key=SANDBOX_KEY, title=f"External {n}", integration="slack", target_platform="iOS")
    first = project_sync(project=project)
    second = project_sync(project=project)
    assert (first.added, first.updated) == (5, 0)
    assert (second.added, second.updated, second.removed, second.total) == (0, 0, 0, 5)


@pytest.mark.django_db
def test_a_refresh_never_undoes_what_happened_after_its_list_was_taken(project: Project, owner, sandbox, monkeypatch):
    paused_here = make_integration(project, owner, "Paused during the refresh", active=True)
    project_sync(project=project)
    list_before = QonversionClient.list_integrations

    def slow_list(self: QonversionClient):
        items = list_before(self)  # the answer Qonversion gave before the actions below
        make_integration(project, owner, "Created during the refresh")
        integration_set_status(integration=Integration.objects.get(pk=paused_here.pk), actor=owner, active=False)
        return items

    monkeypatch.setattr(QonversionClient, "list_integrations", slow_list)
    project_sync(project=project)
    assert Integration.objects.get(title="Created during the refresh").deleted_at is None
    assert Integration.objects.get(pk=paused_here.pk).status == Status.PAUSED


@pytest.mark.django_db
def test_a_deleted_integration_stays_deleted_even_if_still_listed(project: Project, owner, sandbox, monkeypatch):
    integration = make_integration(project, owner, "Deleted here")
    listed = client_for_project(project).list_integrations()
    integration_delete(integration=integration, actor=owner)
    # Whether Qonversion lists soft-deleted records is not documented; suppose it does.
    monkeypatch.setattr(QonversionClient, "list_integrations", lambda self: listed)
    project_sync(project=project)
    integration.refresh_from_db()
    assert integration.deleted_at is not None
    assert integration.deleted_by == owner
