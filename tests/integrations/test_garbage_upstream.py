"""Qonversion (or something in front of it) answers with garbage: an HTML error page,
half a JSON document, JSON of the wrong shape, or nothing at all, with any status, and
before or after it acted on the request. Whatever comes back, the person at the screen
gets a page with a message (never a 5xx or a traceback), keeps what they typed, and
the mirror keeps every row it had.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from integrations.models import Integration, Status
from sandbox.control_client import SandboxControl
from sandbox.faults import WRONG_SHAPES
from teams.models import Project
from tests.conftest import HTMX, SANDBOX_KEY
from tests.factories import make_integration

STATUSES = (200, 201, 500, 502, 418)
# Every kind; wrong_shape once per shape, so each operation meets each of them.
GARBAGE: list[tuple[str, dict[str, object]]] = [
    *((kind, {"garbage": kind}) for kind in ("not_json", "truncated_json", "empty")),
    *((f"wrong_shape{n}", {"garbage": "wrong_shape", "shape": n}) for n in range(len(WRONG_SHAPES))),
]
DUPLICATE_IDS = f"wrong_shape{len(WRONG_SHAPES) - 1}"  # a list naming one record twice
TYPED_TITLE = "Typed <by> “me” & kept"


def cases(*, writes: bool, known_failures: Mapping[tuple[str, int], str] | None = None) -> list[Any]:
    """garbage x status (x before/after handling, for writes; "after" with two statuses
    only, since what matters there is that Qonversion did act)."""
    timings = [("before", False, STATUSES), ("after", True, (200, 502))] if writes else [("before", False, STATUSES)]
    params = []
    for name, garbage in GARBAGE:
        for timing, after, statuses in timings:
            for status in statuses:
                reason = (known_failures or {}).get((name, status))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                params.append(pytest.param(garbage, status, after, id=f"{name}-{status}-{timing}", marks=marks))
    return params


@dataclass
class Scene:
    project: Project
    client: Client
    paused: Integration
    active: Integration

    def rows(self) -> list[tuple[str, bool]]:
        """Every mirror row of the project: its Qonversion id and whether it is marked deleted."""
        return sorted(
            (qid, deleted_at is not None)
            for qid, deleted_at in Integration.objects.filter(project=self.project).values_list(
                "qonversion_id", "deleted_at"
            )
        )


@pytest.fixture
def scene(project: Project, owner: User, owner_client: Client, sandbox: SandboxControl) -> Scene:
    paused = make_integration(project, owner, "Paused one")
    active = make_integration(project, owner, "Active one", provider="amplitude", active=True)
    # The form's provider list is loaded (and cached) before anything goes wrong.
    assert owner_client.get(reverse("integration_create", kwargs={"project_id": project.pk}), **HTMX).status_code == 200
    sandbox.clear_requests()
    return Scene(project=project, client=owner_client, paused=paused, active=active)


def assert_a_page_with_a_message(html: str, status: int, *, succeeded: bool = False) -> None:
    """Not a 5xx, no traceback, and a message: what went wrong (an alert), or the
    confirmation (a flash message) when the garbage could not be told from success."""
    assert status < 500, html[:2000]
    assert "Traceback" not in html
    assert "Server Error" not in html
    assert ('class="flash flash-success"' if succeeded else 'role="alert"') in html, html[:2000]


def integration_url(scene: Scene, name: str, integration: Integration) -> str:
    return reverse(name, kwargs={"project_id": scene.project.pk, "integration_id": integration.pk})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("garbage", "status", "after"),
    cases(writes=False),
)
def test_a_refresh_keeps_the_list(
    scene: Scene, sandbox: SandboxControl, garbage: dict, status: int, after: bool
) -> None:
    before = scene.rows()
    sandbox.add_fault(method="GET", path_prefix="/v4/integrations", status=status, times=0, **garbage)
    response = scene.client.post(reverse("project_refresh", kwargs={"project_id": scene.project.pk}), **HTMX)
    html = response.content.decode()
    assert_a_page_with_a_message(html, response.status_code)
    assert "Paused one" in html
    assert "Active one" in html
    assert scene.rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("garbage", "status", "after"), cases(writes=True))
def test_a_create_keeps_what_was_typed(
    scene: Scene, sandbox: SandboxControl, garbage: dict, status: int, after: bool
) -> None:
    before = scene.rows()
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations", status=status, after=after, times=0, **garbage)
    data = {"title": TYPED_TITLE, "provider": "slack", "platform": "Android", "idempotency_key": str(uuid.uuid4())}
    response = scene.client.post(reverse("integration_create", kwargs={"project_id": scene.project.pk}), data, **HTMX)
    html = response.content.decode()
    assert_a_page_with_a_message(html, response.status_code)
    assert 'value="Typed &lt;by&gt; “me” &amp; kept"' in html  # the title is back in the form
    assert scene.rows() == before  # garbage is no answer to mirror: nothing added, nothing lost


@pytest.mark.django_db
@pytest.mark.parametrize(("garbage", "status", "after"), cases(writes=True))
def test_a_status_change_keeps_the_row(
    scene: Scene, sandbox: SandboxControl, garbage: dict, status: int, after: bool
) -> None:
    before = scene.rows()
    sandbox.add_fault(method="POST", path_prefix="/v4/integrations/", status=status, after=after, times=0, **garbage)
    url = integration_url(scene, "integration_status", scene.paused)
    response = scene.client.post(url, {"status": "active"}, **HTMX)
    html = response.content.decode()
    assert_a_page_with_a_message(html, response.status_code)
    assert "Paused one" in html  # the row is still there, with its reason beside it
    assert scene.rows() == before
    scene.paused.refresh_from_db()
    assert scene.paused.status == Status.PAUSED  # what Qonversion last reported, not what was asked


@pytest.mark.django_db
@pytest.mark.parametrize(("garbage", "status", "after"), cases(writes=True))
def test_a_delete_keeps_the_row(scene: Scene, sandbox: SandboxControl, garbage: dict, status: int, after: bool) -> None:
    before = scene.rows()
    sandbox.add_fault(method="DELETE", status=status, after=after, times=0, **garbage)
    response = scene.client.post(integration_url(scene, "integration_delete", scene.active), **HTMX)
    # A delete needs no answer but its status: a 2xx with nothing or any JSON is a
    # success, and the row is marked deleted (still there, with its history).
    succeeded = garbage["garbage"] in ("empty", "wrong_shape") and status in (200, 201)
    assert_a_page_with_a_message(response.content.decode(), response.status_code, succeeded=succeeded)
    rows = scene.rows()
    assert [qid for qid, _ in rows] == [qid for qid, _ in before]  # no row is ever removed
    if succeeded:
        assert dict(rows)[scene.active.qonversion_id] is True
    else:
        assert rows == before


@pytest.mark.django_db
def test_upstream_text_no_database_can_hold_is_stored_readably(scene: Scene, sandbox: SandboxControl) -> None:
    # NUL is valid in JSON (\u0000) but PostgreSQL text cannot hold it.
    made = sandbox.create_external(
        key=SANDBOX_KEY, title="Nul\x00title", integration="webhooks", target_platform="iOS", active=1
    )
    sandbox.deliveries(key=SANDBOX_KEY, integration_id=made["id"], outcome="failure", message="bad\x00key")
    response = scene.client.post(reverse("project_refresh", kwargs={"project_id": scene.project.pk}), **HTMX)
    assert response.status_code == 200
    row = Integration.objects.get(project=scene.project, qonversion_id=made["id"])
    assert (row.title, row.last_error_message) == ("Nul\ufffdtitle", "bad\ufffdkey")
    assert "Nul\ufffdtitle" in response.content.decode()
