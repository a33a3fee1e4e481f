"""Fixtures for alert tests: which task backend runs the tasks, a real HTTP endpoint on
127.0.0.1 as the other end of a channel, and breaking an integration in the sandbox as
a real outage would."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from integrations.models import Integration, IntegrationChange
from integrations.sync import project_sync
from sandbox.control_client import SandboxControl
from teams.models import Project
from tests.alerts.receiver import Receiver, running_receiver
from tests.conftest import SANDBOX_KEY
from tests.factories import make_integration

IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    """Tasks run inline, when enqueued (production queues them for db_worker)."""
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture
def database_tasks(settings: Any) -> None:
    """Tasks are queued in the database, as in production, and run by no one here."""
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def dummy_tasks(settings: Any) -> list[Any]:
    """Tasks are only recorded, not run: the list of what was enqueued (with run_after)."""
    settings.TASKS = DUMMY_TASKS
    from django.tasks import task_backends

    results: list[Any] = task_backends["default"].results
    return results


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


def break_integration(
    project: Project, actor: User, sandbox: SandboxControl, title: str = "Legacy webhook"
) -> Integration:
    """An active integration that Qonversion's delivery worker then suspends (Error)."""
    integration = make_integration(project, actor, title, active=True)
    sandbox.deliveries(
        key=SANDBOX_KEY,
        integration_id=integration.qonversion_id,
        outcome="failure",
        count=5,
        message="401 from endpoint: bad key",
    )
    return integration


@pytest.fixture
def watched(project: Project) -> Project:
    """A project refreshed once, so that later breakage is news."""
    project_sync(project=project)
    return project


def entered_error_change(integration: Integration) -> IntegrationChange:
    return IntegrationChange.objects.filter(integration=integration, status="error").latest("pk")
