"""The mirror refresh under concurrency and with upstream changes."""

import threading

import pytest
from django.db import connection

from integrations.models import Integration, Project
from integrations.services import project_sync
from sandbox.control_client import SandboxControl
from tests.conftest import SANDBOX_KEY


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
