"""The client against the sandbox: every documented status and error shape."""

import logging
import socket
import time
from collections.abc import Callable

import pytest

from integrations.qonversion import (
    QonversionAuthError,
    QonversionClient,
    QonversionNotFound,
    QonversionProtocolError,
    QonversionRateLimited,
    QonversionServerError,
    QonversionUnreachable,
    QonversionValidationError,
    RetryPolicy,
    parse_integration,
)
from sandbox.control_client import SandboxControl
from tests.conftest import SANDBOX_KEY


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sandbox_root: str, sleeps: list[float]) -> Callable[..., QonversionClient]:
    def make(key: str = SANDBOX_KEY, *, read_timeout: float = 2.0, max_retries: int = 2) -> QonversionClient:
        return QonversionClient(
            key,
            base_url=f"{sandbox_root}/v4",
            read_timeout=read_timeout,
            retry=RetryPolicy(max_retries=max_retries, backoff_seconds=0.01, sleep=sleeps.append),
        )

    return make


@pytest.fixture
def control(sandbox_root: str) -> SandboxControl:
    control = SandboxControl(f"{sandbox_root}/v4")
    control.reset()
    return control


@pytest.fixture
def client(make_client: Callable[..., QonversionClient], control: SandboxControl) -> QonversionClient:
    return make_client()


def create(client: QonversionClient, key: str = "key-1", **overrides: str):
    fields = {"title": "Amplitude prod", "provider_slug": "amplitude", "platform": "iOS", **overrides}
    return client.create_integration(idempotency_key=key, **fields)


def test_it_lists_nothing_for_a_new_project(client: QonversionClient):
    assert client.list_integrations() == []


def test_it_creates_a_paused_integration_with_the_provider_display_name(client: QonversionClient, control):
    created = create(client)
    assert created.status == "paused"
    assert created.title == "Amplitude prod"
    assert created.provider_name == "Amplitude"
    assert created.target_platform == "iOS"
    assert created.delivery_error_count == 0
    assert created.last_delivery_at is None
    assert created.last_error_message is None
    assert [i.id for i in client.list_integrations()] == [created.id]
    posts = [r for r in control.requests() if r["method"] == "POST"]
    assert [r["idempotency_key"] for r in posts] == ["key-1"]


def test_it_gets_the_same_integration_back_for_a_repeated_idempotency_key(client: QonversionClient):
    first = create(client, key="same")
    second = create(client, key="same")
    assert first.id == second.id
    assert len(client.list_integrations()) == 1


def test_it_retries_a_create_with_the_same_key_after_a_timeout(make_client, control: SandboxControl):
    # The first attempt is handled upstream but answered too late: the retry must
    # replay it, not create a second integration.
    client = make_client(read_timeout=0.3)
    control.add_fault(method="POST", path_prefix="/v4/integrations", delay=0.8, times=1)
    created = create(client, key="slow")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:  # let the late first attempt finish upstream
        posts = [r for r in control.requests() if r["method"] == "POST"]
        if len(posts) == 2:
            break
        time.sleep(0.05)
    assert len(posts) == 2
    assert [i.id for i in client.list_integrations()] == [created.id]
    assert {r["idempotency_key"] for r in posts} == {"slow"}


def test_it_reports_field_errors_from_the_envelope(client: QonversionClient):
    with pytest.raises(QonversionValidationError) as caught:
        create(client, title="", provider_slug="nope")
    fields = {detail.field for detail in caught.value.details}
    assert fields == {"title", "integration"}
    assert caught.value.code == "invalid_data"
    assert caught.value.permanent


def test_it_reports_a_platform_the_provider_does_not_accept(client: QonversionClient):
    with pytest.raises(QonversionValidationError) as caught:
        create(client, provider_slug="searchads", platform="Android")
    assert [d.field for d in caught.value.details] == ["target_platform"]


def test_it_reads_the_provider_catalog(client: QonversionClient):
    categories = client.get_meta()
    assert len(categories) == 4
    providers = {p.slug: p for c in categories for p in c.providers}
    assert len(providers) == 25
    assert providers["amplitude"].title == "Amplitude"
    assert providers["searchads"].allowed_stores == ("iOS",)


def test_it_pauses_and_activates(client: QonversionClient):
    created = create(client)
    assert client.set_status(created.id, active=True).status == "active"
    assert client.set_status(created.id, active=False).status == "paused"


def test_it_reports_an_unknown_integration_as_not_found(client: QonversionClient):
    with pytest.raises(QonversionNotFound) as caught:
        client.set_status("doesNotExist", active=True)
    assert caught.value.status == 404
    assert caught.value.details == ()


def test_it_refuses_to_build_a_path_from_a_malformed_id(client: QonversionClient, control: SandboxControl):
    control.clear_requests()
    with pytest.raises(QonversionNotFound):
        client.delete_integration("../../etc")
    assert control.requests() == []


def test_it_deletes_softly_and_a_second_delete_is_not_found(client: QonversionClient):
    created = create(client)
    client.delete_integration(created.id)
    assert client.list_integrations() == []
    with pytest.raises(QonversionNotFound):
        client.delete_integration(created.id)


def test_it_keeps_projects_apart_by_key(make_client, control):
    create(make_client("test_sk_project_one"))
    assert make_client("test_sk_project_two").list_integrations() == []


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        ("test_sk_revoked_key", 401, "control_unauthorized"),
        ("not-a-key", 401, "control_unauthorized"),
        ("pk_public_key_1234", 403, "control_forbidden"),
    ],
)
def test_it_reports_auth_failures(make_client, control, key: str, status: int, code: str, sleeps: list[float]):
    with pytest.raises(QonversionAuthError) as caught:
        make_client(key).list_integrations()
    assert (caught.value.status, caught.value.code) == (status, code)
    assert sleeps == []  # permanent: no retry


def test_it_retries_a_server_error_then_succeeds(client: QonversionClient, control, sleeps: list[float]):
    control.add_fault(method="GET", status=503, times=1)
    assert client.list_integrations() == []
    assert len(sleeps) == 1
    assert [r["status"] for r in control.requests() if r["method"] == "GET"] == [503, 200]


def test_it_gives_up_after_the_retry_budget(client: QonversionClient, control, sleeps: list[float]):
    control.add_fault(method="GET", status=502, times=5)
    with pytest.raises(QonversionServerError) as caught:
        client.list_integrations()
    assert caught.value.status == 502
    assert len(sleeps) == 2
    assert len([r for r in control.requests() if r["method"] == "GET"]) == 3


def test_it_honours_retry_after_on_429(client: QonversionClient, control, sleeps: list[float]):
    control.add_fault(method="GET", status=429, code="rate_limit_exceeded", retry_after=3, times=1)
    client.list_integrations()
    assert sleeps == [3.0]


def test_it_raises_rate_limited_when_429_persists(make_client, control):
    control.add_fault(method="GET", status=429, retry_after=0, times=3)
    with pytest.raises(QonversionRateLimited):
        make_client(max_retries=1).list_integrations()


def test_it_reports_a_timeout(make_client, control):
    control.add_fault(method="GET", delay=1.0, times=3)
    with pytest.raises(QonversionUnreachable) as caught:
        make_client(read_timeout=0.2, max_retries=0).list_integrations()
    assert caught.value.timed_out
    assert "did not answer within 0.2 s" in caught.value.message


def test_it_reports_a_dropped_connection(make_client, control):
    control.add_fault(method="GET", drop=True, times=3)
    with pytest.raises(QonversionUnreachable) as caught:
        make_client(max_retries=0).list_integrations()
    assert caught.value.maybe_delivered  # sent, then no answer: the outcome is unknown


def test_it_reports_a_refused_connection():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = QonversionClient(SANDBOX_KEY, base_url=f"http://127.0.0.1:{port}/v4", retry=RetryPolicy(max_retries=0))
    with pytest.raises(QonversionUnreachable) as caught:
        client.list_integrations()
    assert not caught.value.timed_out
    assert not caught.value.maybe_delivered  # never connected: certainly not acted on


def test_it_never_shows_or_logs_the_key(client: QonversionClient, control, caplog):
    caplog.set_level(logging.DEBUG)
    control.add_fault(method="GET", status=503, times=1)
    client.list_integrations()
    assert SANDBOX_KEY not in repr(client)
    assert SANDBOX_KEY not in caplog.text


def test_it_tolerates_unknown_fields_and_rejects_broken_objects():
    payload = {
        "object": "integration",
        "id": "abc",
        "url": "/v4/integrations/abc",
        "title": "t",
        "integration": "Slack",
        "target_platform": "iOS",
        "active": 2,
        "created_at": "2026-02-26T16:03:09Z",
        "updated_at": "2026-02-26T16:03:09Z",
        "last_delivery_at": None,
        "last_error_at": "2026-02-27T10:00:00Z",
        "last_error_message": "boom",
        "delivery_error_count": 5,
        "something_new": {"nested": True},
    }
    parsed = parse_integration(payload)
    assert parsed.status == "error"
    assert parsed.last_error_message == "boom"
    assert parsed.last_error_at is not None
    with pytest.raises(QonversionProtocolError):
        parse_integration({**payload, "active": 7})
    with pytest.raises(QonversionProtocolError):
        parse_integration({**payload, "created_at": "yesterday"})


@pytest.mark.parametrize(
    "change",
    [
        {"delivery_error_count": -1},
        {"delivery_error_count": "7"},
        {"id": "../../etc"},
        {"id": "x" * 257},
        {"target_platform": "PlayStation Portable"},
    ],
)
def test_it_refuses_values_outside_the_contract(change: dict):
    payload = {
        "object": "integration",
        "id": "abc",
        "url": "/v4/integrations/abc",
        "title": "t",
        "integration": "Slack",
        "target_platform": "iOS",
        "active": 1,
        "created_at": "2026-02-26T16:03:09Z",
        "updated_at": "2026-02-26T16:03:09Z",
        "delivery_error_count": 0,
    }
    with pytest.raises(QonversionProtocolError):
        parse_integration({**payload, **change})


def test_it_keeps_what_fits_of_an_over_long_title():
    payload = {
        "object": "integration",
        "id": "abc",
        "title": "t" * 400,
        "integration": "P" * 300,
        "target_platform": "iOS",
        "active": 0,
        "created_at": "2026-02-26T16:03:09Z",
    }
    parsed = parse_integration(payload)
    assert (len(parsed.title), len(parsed.provider_name)) == (255, 100)


def test_no_retry_starts_after_the_deadline(sandbox_root: str, control: SandboxControl, sleeps: list[float]):
    control.add_fault(method="GET", status=429, retry_after=5, times=3)
    client = QonversionClient(
        SANDBOX_KEY,
        base_url=f"{sandbox_root}/v4",
        retry=RetryPolicy(max_retries=2, deadline_seconds=2, sleep=sleeps.append),
    )
    with pytest.raises(QonversionRateLimited):
        client.list_integrations()
    assert sleeps == []  # waiting 5 s would overrun the 2 s deadline: give up at once
