"""Injected faults (control API), applied after auth and before handling."""

from __future__ import annotations

import time

import pytest
import requests

from .conftest import Api, assert_error, assert_no_details


def add_fault(api: Api, **fault: object) -> None:
    response = api.control("POST", "/faults", fault)
    assert response.status_code == 200, response.text


def test_it_returns_a_status_fault_with_the_v4_envelope_once(api: Api) -> None:
    add_fault(api, status=503)
    error = assert_error(api.call("GET", "/v4/integrations"), 503, "unknown_error", error_type="internal")
    assert_no_details(error)
    assert api.call("GET", "/v4/integrations").status_code == 200


def test_it_applies_a_fault_the_given_number_of_times(api: Api) -> None:
    add_fault(api, status=500, times=2)
    assert [api.call("GET", "/v4/integrations").status_code for _ in range(3)] == [500, 500, 200]


def test_it_uses_the_given_code_type_message_and_retry_after(api: Api) -> None:
    add_fault(api, status=429, retry_after=7)
    response = api.call("GET", "/v4/integrations")
    assert_error(response, 429, "rate_limit_exceeded")
    assert response.headers["Retry-After"] == "7"
    add_fault(api, status=502, code="network_error", type="logical", message="Upstream hiccup")
    error = assert_error(api.call("GET", "/v4/integrations"), 502, "network_error", error_type="logical")
    assert error["message"] == "Upstream hiccup"


def test_it_matches_faults_by_method_and_path_prefix(api: Api) -> None:
    add_fault(api, method="post", path_prefix="/v4/integrations/", status=500)
    assert api.call("GET", "/v4/integrations/meta").status_code == 200  # wrong method
    assert api.create().status_code == 201  # POST, but path does not start with the prefix
    created = api.created()
    assert api.set_status(created["id"], {"status": 1}).status_code == 500
    assert api.set_status(created["id"], {"status": 1}).status_code == 200


def test_it_does_not_spend_faults_on_requests_that_fail_auth(api: Api) -> None:
    add_fault(api, status=503)
    assert api.call("GET", "/v4/integrations", key=None).status_code == 401
    assert api.call("GET", "/v4/integrations").status_code == 503


def test_it_delays_then_handles_normally(api: Api) -> None:
    add_fault(api, delay=0.3)
    started = time.monotonic()
    response = api.create()
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201


def test_it_lets_a_client_time_out_on_a_delay(api: Api) -> None:
    add_fault(api, delay=0.5, status=500)
    with pytest.raises(requests.Timeout):
        api.call("GET", "/v4/integrations", timeout=0.1)


def test_it_drops_the_connection_without_a_response(api: Api) -> None:
    add_fault(api, drop=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(api.root + "/v4/integrations", headers={"Authorization": "Bearer sk_drop1234abcd"}, timeout=5)
    assert api.request_log()[-1]["status"] is None
    assert api.call("GET", "/v4/integrations").status_code == 200


def test_it_never_handles_a_request_dropped_before_handling(api: Api) -> None:
    add_fault(api, drop=True, method="POST")
    with pytest.raises(requests.ConnectionError):
        api.create()
    assert api.integrations() == []


def test_it_can_lose_the_response_after_the_create_happened(api: Api) -> None:
    add_fault(api, drop=True, method="POST", after=True)
    with pytest.raises(requests.ConnectionError):
        api.create(idempotency_key="form-1")
    [created] = api.integrations()
    retried = api.create(idempotency_key="form-1")
    assert retried.json()["id"] == created["id"]
    assert retried.headers["Idempotent-Replayed"] == "true"


def test_it_can_replace_the_response_after_handling(api: Api) -> None:
    add_fault(api, status=504, after=True)
    assert api.create().status_code == 504
    assert len(api.integrations()) == 1


def test_it_lists_and_clears_pending_faults(api: Api) -> None:
    add_fault(api, status=500, times=3)
    pending = api.control("GET", "/faults").json()["data"]
    assert len(pending) == 1
    assert pending[0]["status"] == 500
    assert pending[0]["times"] == 3
    assert api.control("DELETE", "/faults").json() == {"ok": True}
    assert api.control("GET", "/faults").json()["data"] == []
    assert api.call("GET", "/v4/integrations").status_code == 200


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({}, "status"),
        ({"status": 200}, "status"),
        ({"status": True}, "status"),
        ({"status": 500, "times": 0}, "times"),
        ({"delay": -1}, "delay"),
        ({"drop": "yes"}, "drop"),
        ({"status": 500, "method": "FETCH"}, "method"),
        ({"status": 500, "path_prefix": "v4"}, "path_prefix"),
    ],
)
def test_it_validates_fault_definitions(api: Api, fault: dict[str, object], field: str) -> None:
    error = assert_error(api.control("POST", "/faults", fault), 400, "invalid_data")
    assert field in [d["field"] for d in error["details"]]
