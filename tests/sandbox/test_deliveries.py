"""Delivery simulation: the only way to active=2 (§5)."""

from __future__ import annotations

import time
from typing import Any

from sandbox.delivery import FAILURE_MESSAGES

from .conftest import OTHER_KEY, Api, StartSandbox, assert_error


def active_integration(api: Api, key: str = "test_sk_alpha1234wxyz", **fields: Any) -> dict[str, Any]:
    created = api.created(key=key, **fields)
    body: dict[str, Any] = api.set_status(created["id"], {"status": 1}, key=key).json()
    return body


def run_scenario(api: Api) -> tuple[list[dict[str, int]], list[dict[str, Any]]]:
    for n in range(4):
        active_integration(api, title=f"i{n}")
    active_integration(api, key=OTHER_KEY)
    rounds = [api.tick() for _ in range(12)]
    return rounds, api.integrations() + api.integrations(OTHER_KEY)


def test_it_is_deterministic_for_a_seed(start_sandbox: StartSandbox) -> None:
    first = run_scenario(start_sandbox(seed=7, failure_rate=0.5))
    second = run_scenario(start_sandbox(seed=7, failure_rate=0.5))
    assert first == second
    rounds, _records = first
    assert sum(r["failed"] for r in rounds) > 0
    assert sum(r["delivered"] for r in rounds) > 0
    third = run_scenario(start_sandbox(seed=8, failure_rate=0.5))
    assert third != first


def test_it_is_deterministic_again_after_reset(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(seed=3, failure_rate=0.5)
    first = run_scenario(api)
    api.control("POST", "/reset")
    assert run_scenario(api) == first


def test_it_records_a_successful_delivery(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(failure_rate=0.0)
    record = active_integration(api)
    api.clock.advance(10)
    assert api.tick() == {"delivered": 1, "failed": 0, "errored": 0}
    delivered = api.integrations()[0]
    assert delivered["last_delivery_at"] == "2026-02-26T16:03:19Z"
    assert delivered["delivery_error_count"] == 0
    assert delivered["updated_at"] == record["updated_at"]  # delivery bookkeeping does not bump it


def test_it_records_failures_and_suspends_at_the_threshold(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(failure_rate=1.0, error_threshold=3)
    record = active_integration(api)
    api.clock.advance(5)
    assert api.tick() == {"delivered": 0, "failed": 1, "errored": 0}
    after_one = api.integrations()[0]
    assert after_one["active"] == 1
    assert after_one["delivery_error_count"] == 1
    assert after_one["last_error_at"] == "2026-02-26T16:03:14Z"
    assert after_one["last_error_message"] in FAILURE_MESSAGES
    assert after_one["updated_at"] == record["updated_at"]
    api.tick()
    api.clock.advance(5)
    assert api.tick() == {"delivered": 0, "failed": 1, "errored": 1}
    errored = api.integrations()[0]
    assert errored["active"] == 2
    assert errored["delivery_error_count"] == 3
    assert errored["updated_at"] == "2026-02-26T16:03:19Z"  # the worker's change to `active`
    assert api.tick() == {"delivered": 0, "failed": 0, "errored": 0}  # errored gets nothing


def test_it_flips_to_2_after_five_forced_failures_by_default(api: Api) -> None:
    record = active_integration(api)
    assert api.deliver(record["id"], "failure", count=4)["active"] == 1
    flipped = api.deliver(record["id"], "failure")
    assert flipped["active"] == 2
    assert flipped["delivery_error_count"] == 5
    assert flipped["last_error_message"] == FAILURE_MESSAGES[0]


def test_it_resets_the_count_on_success_but_keeps_the_last_error(api: Api) -> None:
    record = active_integration(api)
    failed = api.deliver(record["id"], "failure", count=4)
    api.clock.advance(1)
    recovered = api.deliver(record["id"], "success")
    assert recovered["delivery_error_count"] == 0
    assert recovered["active"] == 1
    assert recovered["last_delivery_at"] == "2026-02-26T16:03:10Z"
    assert recovered["last_error_at"] == failed["last_error_at"]
    assert recovered["last_error_message"] == failed["last_error_message"]
    assert api.deliver(record["id"], "failure", count=4)["active"] == 1  # counting starts over


def test_it_uses_the_given_failure_message(api: Api) -> None:
    record = active_integration(api)
    response = api.control(
        "POST",
        "/deliveries",
        {"key": "test_sk_alpha1234wxyz", "integration_id": record["id"], "outcome": "failure", "message": "Boom"},
    )
    assert response.json()["last_error_message"] == "Boom"


def test_it_skips_paused_errored_and_deleted_integrations(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(failure_rate=1.0)
    paused = api.created(title="paused")
    errored = active_integration(api, title="errored")
    api.deliver(errored["id"], "failure", count=5)
    deleted = active_integration(api, title="deleted")
    api.delete(deleted["id"])
    live = active_integration(api, title="live")
    before = {item["id"]: item for item in api.integrations()}
    api.clock.advance(60)
    assert api.tick() == {"delivered": 0, "failed": 1, "errored": 0}
    after = {item["id"]: item for item in api.integrations()}
    assert after[paused["id"]] == before[paused["id"]]
    assert after[errored["id"]] == before[errored["id"]]
    assert after[live["id"]]["delivery_error_count"] == 1


def test_it_records_forced_failures_on_a_paused_integration_without_suspending(api: Api) -> None:
    paused = api.created()
    result = api.deliver(paused["id"], "failure", count=6)
    assert result["active"] == 0
    assert result["delivery_error_count"] == 6
    assert result["updated_at"] == paused["updated_at"]


def test_it_refuses_forced_deliveries_to_unknown_or_deleted_integrations(api: Api) -> None:
    record = api.created()
    api.delete(record["id"])
    body = {"key": "test_sk_alpha1234wxyz", "integration_id": record["id"], "outcome": "success"}
    assert_error(api.control("POST", "/deliveries", body), 404, "not_found", error_type="resource")
    body["key"] = OTHER_KEY
    assert_error(api.control("POST", "/deliveries", body), 404, "not_found", error_type="resource")


def test_it_validates_forced_deliveries(api: Api) -> None:
    response = api.control("POST", "/deliveries", {"key": "pk_nope1234", "outcome": "maybe", "count": 0})
    error = assert_error(response, 400, "invalid_data")
    assert [d["field"] for d in error["details"]] == ["key", "integration_id", "outcome", "count"]


def test_it_runs_rounds_in_the_background(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(delivery_interval=0.02, failure_rate=0.0)
    record = active_integration(api)
    deadline = time.monotonic() + 3
    while api.integrations()[0]["last_delivery_at"] is None:
        assert time.monotonic() < deadline, "no background delivery happened"
        time.sleep(0.02)
    assert api.integrations()[0]["id"] == record["id"]
