"""§7 Idempotency-Key on POST /v4/integrations, with every [unknown] as a switch."""

from __future__ import annotations

import threading

import requests

from .conftest import KEY, OTHER_KEY, VALID_BODY, Api, StartSandbox, assert_error


def test_it_replays_the_first_response_for_the_same_key_and_body(api: Api) -> None:
    first = api.create(idempotency_key="form-1")
    second = api.create(idempotency_key="form-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(api.integrations()) == 1


def test_it_compares_bodies_as_json_not_bytes(api: Api) -> None:
    first = api.create(idempotency_key="form-1")
    reordered = '{ "target_platform": "iOS", "integration": "amplitude", "title": "Amplitude iOS" }'
    second = api.call("POST", "/v4/integrations", data=reordered, headers={"Idempotency-Key": "form-1"})
    assert second.json()["id"] == first.json()["id"]


def test_it_can_leave_out_the_replay_header(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(replay_header=False)
    api.create(idempotency_key="form-1")
    assert "Idempotent-Replayed" not in api.create(idempotency_key="form-1").headers


def test_it_creates_again_for_a_new_key_or_no_key(api: Api) -> None:
    api.create(idempotency_key="form-1")
    api.create(idempotency_key="form-2")
    api.create()
    api.create()
    assert len(api.integrations()) == 4


def test_it_scopes_keys_per_secret_key(api: Api) -> None:
    mine = api.create(key=KEY, idempotency_key="shared").json()
    theirs = api.create(key=OTHER_KEY, idempotency_key="shared").json()
    assert mine["id"] != theirs["id"]
    assert len(api.integrations(KEY)) == len(api.integrations(OTHER_KEY)) == 1


def test_it_rejects_a_reused_key_with_a_different_body_with_409(api: Api) -> None:
    api.create(idempotency_key="form-1")
    response = api.create(idempotency_key="form-1", title="Something else")
    error = assert_error(response, 409, "already_exists")
    assert "Idempotency-Key" in error["message"]
    assert "details" not in error
    assert len(api.integrations()) == 1


def test_it_can_replay_despite_a_different_body(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(idempotency_mismatch="replay")
    first = api.create(idempotency_key="form-1").json()
    second = api.create(idempotency_key="form-1", title="Something else")
    assert second.status_code == 201
    assert second.json() == first


def test_it_does_not_remember_a_failed_first_attempt(api: Api) -> None:
    failed = api.create(idempotency_key="form-1", target_platform="ios")
    assert failed.status_code == 422
    retried = api.create(idempotency_key="form-1")
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert api.create(idempotency_key="form-1").json() == retried.json()


def test_it_does_not_remember_a_faulted_attempt(api: Api) -> None:
    api.control("POST", "/faults", {"status": 503})
    assert api.create(idempotency_key="form-1").status_code == 503
    assert api.create(idempotency_key="form-1").status_code == 201


def test_it_can_replay_failed_first_attempts(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(replay_failures=True)
    failed = api.create(idempotency_key="form-1", target_platform="ios")
    replayed = api.create(idempotency_key="form-1", target_platform="ios")
    assert replayed.status_code == 422
    assert replayed.json() == failed.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"


def test_it_creates_one_record_for_concurrent_requests_with_one_key(api: Api) -> None:
    barrier = threading.Barrier(12)
    ids: list[str] = []

    def submit() -> None:
        barrier.wait()
        response = requests.post(
            api.root + "/v4/integrations",
            json=VALID_BODY,
            headers={"Authorization": f"Bearer {KEY}", "Idempotency-Key": "double-click"},
            timeout=5,
        )
        ids.append(response.json()["id"])

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 12
    assert len(set(ids)) == 1
    assert len(api.integrations()) == 1


def test_it_forgets_keys_after_the_ttl(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(idempotency_ttl=3600)
    first = api.create(idempotency_key="form-1").json()
    api.clock.advance(3599)
    assert api.create(idempotency_key="form-1").json()["id"] == first["id"]
    api.clock.advance(1)
    later = api.create(idempotency_key="form-1")
    assert later.status_code == 201
    assert later.json()["id"] != first["id"]
    assert "Idempotent-Replayed" not in later.headers


def test_it_keeps_keys_for_a_day_by_default(api: Api) -> None:
    first = api.create(idempotency_key="form-1").json()
    api.clock.advance(86399)
    assert api.create(idempotency_key="form-1").json()["id"] == first["id"]
    api.clock.advance(1)
    assert api.create(idempotency_key="form-1").json()["id"] != first["id"]


def test_it_replays_the_original_body_even_after_the_record_changed(api: Api) -> None:
    first = api.create(idempotency_key="form-1").json()
    api.set_status(first["id"], {"status": 1})
    assert api.create(idempotency_key="form-1").json() == first


def test_it_ignores_a_blank_idempotency_key(api: Api) -> None:
    api.call("POST", "/v4/integrations", json=VALID_BODY, headers={"Idempotency-Key": ""})
    api.call("POST", "/v4/integrations", json=VALID_BODY, headers={"Idempotency-Key": ""})
    assert len(api.integrations()) == 2
