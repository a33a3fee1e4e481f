"""Injected faults (control API), applied after auth and before handling."""

from __future__ import annotations

import json
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
        ({"status": 500, "times": -1}, "times"),
        ({"status": 500, "times": 1.5}, "times"),
        ({"delay": -1}, "delay"),
        ({"drop": "yes"}, "drop"),
        ({"status": 500, "method": "FETCH"}, "method"),
        ({"status": 500, "path_prefix": "v4"}, "path_prefix"),
    ],
)
def test_it_validates_fault_definitions(api: Api, fault: dict[str, object], field: str) -> None:
    error = assert_error(api.control("POST", "/faults", fault), 400, "invalid_data")
    assert field in [d["field"] for d in error["details"]]


# --- garbage bodies -------------------------------------------------------------------


def assert_not_json(body: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_it_answers_an_html_page_for_not_json(api: Api) -> None:
    add_fault(api, garbage="not_json", status=502)
    response = api.call("GET", "/v4/integrations")
    assert response.status_code == 502
    assert "text/html" in response.headers["Content-Type"]
    assert response.text.startswith("<!DOCTYPE html>")
    assert "502 Bad Gateway" in response.text
    assert_not_json(response.content)
    assert api.call("GET", "/v4/integrations").status_code == 200  # used up


def test_the_html_page_is_labelled_html_only(api: Api) -> None:
    add_fault(api, garbage="not_json", status=502)
    assert api.call("GET", "/v4/integrations").headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(("status", "start"), [(200, b'{"object":"integration",'), (503, b'{"error":{')])
def test_it_cuts_a_json_answer_in_half_for_truncated_json(api: Api, status: int, start: bytes) -> None:
    add_fault(api, garbage="truncated_json", status=status)
    response = api.call("GET", "/v4/integrations")
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.content.startswith(start)
    assert_not_json(response.content)


def test_it_answers_valid_json_of_the_wrong_shape_a_different_one_each_time(api: Api) -> None:
    add_fault(api, garbage="wrong_shape", times=8)
    bodies = []
    for _ in range(8):
        response = api.call("GET", "/v4/integrations")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        bodies.append(response.json())
    assert bodies[0] == [{**bodies[3], "active": 0}]  # a bare array
    assert bodies[1] == "OK"
    assert bodies[2] == {"data": 5}
    assert bodies[3]["object"] == "integration"
    assert bodies[3]["active"] == "yes"
    assert bodies[4] is None
    assert bodies[5] == {"error": "Something went wrong"}
    assert bodies[6]["object"] == "list"
    assert [item["id"] for item in bodies[6]["data"]] == ["gNl6hyM6", "gNl6hyM6"]  # one id twice
    assert bodies[7] == bodies[0]  # then round again


def test_it_answers_the_chosen_wrong_shape_every_time(api: Api) -> None:
    add_fault(api, garbage="wrong_shape", shape=2, times=3)
    assert [api.call("GET", "/v4/integrations").json() for _ in range(3)] == [{"data": 5}] * 3


def test_it_answers_zero_bytes_for_empty(api: Api) -> None:
    add_fault(api, garbage="empty", status=200)
    response = api.call("GET", "/v4/integrations")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == "0"


def test_an_empty_no_content_answer_is_allowed(api: Api) -> None:
    add_fault(api, garbage="empty", status=204, method="GET")
    response = api.call("GET", "/v4/integrations")
    assert response.status_code == 204
    assert response.content == b""
    assert api.call("GET", "/v4/integrations").json()["data"] == []  # the connection is still usable


def test_garbage_answers_200_unless_a_status_is_given(api: Api) -> None:
    add_fault(api, garbage="truncated_json")
    add_fault(api, garbage="truncated_json", status=418, retry_after=4)
    assert api.call("GET", "/v4/integrations").status_code == 200
    teapot = api.call("GET", "/v4/integrations")
    assert teapot.status_code == 418
    assert teapot.headers["Retry-After"] == "4"


def test_garbage_before_handling_changes_nothing(api: Api) -> None:
    add_fault(api, garbage="not_json", status=201, method="POST")
    assert api.create().status_code == 201
    assert api.integrations() == []


def test_garbage_after_handling_replaces_the_answer_of_a_real_create(api: Api) -> None:
    add_fault(api, garbage="truncated_json", status=200, after=True, method="POST")
    response = api.create(idempotency_key="form-1")
    assert response.status_code == 200
    assert_not_json(response.content)
    [created] = api.integrations()
    replayed = api.create(idempotency_key="form-1")  # the retry gets the real first answer
    assert replayed.status_code == 201
    assert replayed.json()["id"] == created["id"]


def test_garbage_after_handling_keeps_the_status_change(api: Api) -> None:
    created = api.created()
    add_fault(api, garbage="empty", status=502, after=True, method="POST")
    assert api.set_status(created["id"], {"status": 1}).status_code == 502
    assert api.integrations()[0]["active"] == 1


# --- rate and times ---------------------------------------------------------------------


def statuses(api: Api, count: int) -> list[int]:
    return [api.call("GET", "/v4/integrations").status_code for _ in range(count)]


def test_a_rate_of_one_applies_to_every_matching_request(api: Api) -> None:
    add_fault(api, status=500, rate=1, times=3)
    assert statuses(api, 4) == [500, 500, 500, 200]


def test_a_seeded_rate_applies_to_about_that_share_and_repeats_exactly(api: Api) -> None:
    add_fault(api, status=500, rate=0.1, seed=5, times=0)
    first = statuses(api, 300)
    assert 10 <= first.count(500) <= 60
    assert set(first) == {200, 500}
    api.control("DELETE", "/faults")
    add_fault(api, status=500, rate=0.1, seed=5, times=0)
    assert statuses(api, 300) == first


def test_a_missed_draw_does_not_spend_the_fault(api: Api) -> None:
    add_fault(api, status=503, rate=1e-9, times=1)
    assert statuses(api, 20) == [200] * 20
    [pending] = api.control("GET", "/faults").json()["data"]
    assert (pending["status"], pending["rate"], pending["times"]) == (503, 1e-9, 1)


def test_a_missed_draw_lets_a_later_fault_apply(api: Api) -> None:
    add_fault(api, status=500, rate=1e-9, times=0)
    add_fault(api, status=503)
    assert statuses(api, 2) == [503, 200]


def test_times_zero_applies_until_the_faults_are_cleared(api: Api) -> None:
    add_fault(api, status=500, times=0)
    assert statuses(api, 5) == [500] * 5
    assert api.control("GET", "/faults").json()["data"][0]["times"] == 0
    api.control("DELETE", "/faults")
    assert statuses(api, 1) == [200]


def test_a_rated_delay_slows_only_some_requests(api: Api) -> None:
    add_fault(api, delay=0.2, rate=0.5, seed=1, times=0)
    slow = 0
    for _ in range(10):
        started = time.monotonic()
        assert api.call("GET", "/v4/integrations").status_code == 200
        slow += time.monotonic() - started >= 0.2
    assert 0 < slow < 10


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({"garbage": "xml"}, "garbage"),
        ({"garbage": True}, "garbage"),
        ({"garbage": ["empty"]}, "garbage"),
        ({"status": 200, "garbage": None}, "status"),
        ({"status": 199, "garbage": "empty"}, "status"),
        ({"status": 600, "garbage": "empty"}, "status"),
        ({"status": 204, "garbage": "not_json"}, "status"),
        ({"status": 304, "garbage": "wrong_shape"}, "status"),
        ({"status": 500, "rate": 0}, "rate"),
        ({"status": 500, "rate": 1.5}, "rate"),
        ({"status": 500, "rate": "10%"}, "rate"),
        ({"status": 500, "rate": True}, "rate"),
        ({"status": 500, "seed": "abc"}, "seed"),
        ({"status": 500, "seed": 1.5}, "seed"),
        ({"garbage": "wrong_shape", "shape": -1}, "shape"),
        ({"garbage": "wrong_shape", "shape": 7}, "shape"),
        ({"garbage": "wrong_shape", "shape": "list"}, "shape"),
        ({"rate": 0.5}, "status"),  # a rate alone does nothing
    ],
)
def test_it_validates_garbage_and_rate(api: Api, fault: dict[str, object], field: str) -> None:
    error = assert_error(api.control("POST", "/faults", fault), 400, "invalid_data")
    assert field in [d["field"] for d in error["details"]]
    assert api.control("GET", "/faults").json()["data"] == []
