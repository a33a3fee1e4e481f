"""The sandbox-only control API (/_sandbox), not part of Qonversion."""

from __future__ import annotations

import threading
import time

from .conftest import KEY, Api, StartSandbox, assert_error


def test_it_resets_every_piece_of_state(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(rate_limit=2)
    first_id = api.create(idempotency_key="k").json()["id"]
    api.control("POST", "/faults", {"status": 500, "path_prefix": "/v4/integrations/meta"})
    assert api.control("POST", "/reset").json() == {"ok": True}
    assert api.request_log() == []
    assert api.control("GET", "/faults").json()["data"] == []
    assert api.integrations() == []  # rate counter was reset too: this is request 1 of 2
    assert api.call("GET", "/v4/integrations/meta").status_code == 200  # fault gone; request 2 of 2
    api.control("POST", "/reset")
    again = api.create(idempotency_key="k")
    assert "Idempotent-Replayed" not in again.headers  # idempotency records cleared
    assert again.json()["id"] == first_id  # same seed, same first id


def test_it_logs_v4_requests_only_newest_last(api: Api) -> None:
    api.create(idempotency_key="form-1")
    api.call("GET", "/v4/integrations", key=None)
    api.call("GET", "/v4/nowhere")
    api.tick()  # control calls are not logged
    assert api.request_log() == [
        {
            "method": "POST",
            "path": "/v4/integrations",
            "status": 201,
            "idempotency_key": "form-1",
            "key_hint": "test_sk_…wxyz",
        },
        {"method": "GET", "path": "/v4/integrations", "status": 401, "idempotency_key": None, "key_hint": None},
        {
            "method": "GET",
            "path": "/v4/nowhere",
            "status": 404,
            "idempotency_key": None,
            "key_hint": "test_sk_…wxyz",
        },
    ]
    assert api.control("DELETE", "/requests").json() == {"ok": True}
    assert api.request_log() == []


def test_it_creates_integrations_as_another_tool_would(api: Api) -> None:
    response = api.control(
        "POST",
        "/integrations",
        {"key": KEY, "title": "Made elsewhere", "integration": "slack", "target_platform": "Stripe", "active": 1},
    )
    assert response.status_code == 201
    created = response.json()
    assert created["integration"] == "Slack"
    assert created["active"] == 1
    assert api.integrations() == [created]
    assert api.request_log() == [
        {
            "method": "GET",
            "path": "/v4/integrations",
            "status": 200,
            "idempotency_key": None,
            "key_hint": "test_sk_…wxyz",
        }
    ]


def test_it_validates_externally_created_integrations(api: Api) -> None:
    response = api.control(
        "POST",
        "/integrations",
        {"key": "sk_revoked_1234", "integration": "searchads", "target_platform": "Stripe", "active": 2},
    )
    error = assert_error(response, 400, "invalid_data")
    assert [d["field"] for d in error["details"]] == ["key", "active", "title", "target_platform"]


def test_it_answers_unknown_control_paths_and_methods(api: Api) -> None:
    assert_error(api.control("GET", "/nothing"), 404, "invalid_request")
    response = api.control("GET", "/reset")
    assert_error(response, 405, "invalid_request")
    assert response.headers["Allow"] == "POST"
    broken_json = api.session.post(api.root + "/_sandbox/tick", data="{", timeout=5)
    assert_error(broken_json, 400, "invalid_request")


def test_a_request_that_arrived_before_a_reset_is_not_logged_after_it(start_sandbox: StartSandbox) -> None:
    """A test that gave up on a slow request must not find it in the next test's log."""
    api = start_sandbox()
    api.control("POST", "/faults", {"delay": 0.5, "times": 1})
    late = threading.Thread(target=api.integrations)
    late.start()
    time.sleep(0.2)
    api.control("POST", "/reset")
    late.join()
    assert api.request_log() == []
