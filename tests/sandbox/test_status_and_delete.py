"""§3.4 pause/activate and §3.5 soft delete."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api, StartSandbox, assert_error, assert_no_details


def test_it_activates_and_pauses_bumping_updated_at(api: Api) -> None:
    created = api.created()
    api.clock.advance(30)
    response = api.set_status(created["id"], {"status": 1})
    assert response.status_code == 200
    activated = response.json()
    assert activated["active"] == 1
    assert activated["updated_at"] == "2026-02-26T16:03:39Z"
    assert activated["created_at"] == created["created_at"]
    api.clock.advance(30)
    paused = api.set_status(created["id"], {"status": 0}).json()
    assert paused["active"] == 0
    assert paused["updated_at"] == "2026-02-26T16:04:09Z"
    assert api.integrations() == [paused]


def test_it_treats_the_same_status_again_as_a_no_op(api: Api) -> None:
    created = api.created()
    api.clock.advance(60)
    response = api.set_status(created["id"], {"status": 0})
    assert response.status_code == 200
    assert response.json() == created  # updated_at unchanged


@pytest.mark.parametrize(
    "body",
    [
        {"status": 2},
        {"status": True},
        {"status": False},
        {"status": "1"},
        {"status": 1.0},
        {"status": -1},
        {},
        {"status": None},
    ],
)
def test_it_rejects_a_status_other_than_0_or_1(api: Api, body: dict[str, Any]) -> None:
    created = api.created()
    error = assert_error(api.set_status(created["id"], body), 422, "invalid_data")
    assert [d["field"] for d in error["details"]] == ["status"]
    assert api.integrations()[0]["active"] == 0


def test_it_explains_that_status_2_belongs_to_qonversion(api: Api) -> None:
    created = api.created()
    error = assert_error(api.set_status(created["id"], {"status": 2}), 422, "invalid_data")
    assert "Qonversion" in error["details"][0]["message"]


def test_it_rejects_a_status_body_that_is_not_json_with_400(api: Api) -> None:
    created = api.created()
    response = api.call("POST", f"/v4/integrations/{created['id']}/status", data=b"status=1")
    assert_no_details(assert_error(response, 400, "invalid_request"))


@pytest.mark.parametrize("integration_id", ["abcd1234", "no.such-id_9", "bad$id", "x" * 257, "%20"])
def test_it_answers_404_not_found_for_unknown_or_invalid_ids(api: Api, integration_id: str) -> None:
    for response in (api.set_status(integration_id, {"status": 1}), api.delete(integration_id)):
        assert_no_details(assert_error(response, 404, "not_found", error_type="resource"))


def test_it_resolves_the_id_before_validating_the_body(api: Api) -> None:
    assert_error(api.set_status("abcd1234", {"status": 7}), 404, "not_found", error_type="resource")


def test_it_soft_deletes_with_204_then_hides_and_404s(api: Api) -> None:
    keep = api.created(title="keep")
    gone = api.created(title="gone")
    response = api.delete(gone["id"])
    assert response.status_code == 204
    assert response.content == b""
    assert "Content-Type" not in response.headers
    assert [item["id"] for item in api.integrations()] == [keep["id"]]
    assert_no_details(assert_error(api.delete(gone["id"]), 404, "not_found", error_type="resource"))
    assert_error(api.set_status(gone["id"], {"status": 1}), 404, "not_found", error_type="resource")


def test_it_never_reissues_the_id_of_a_deleted_integration(start_sandbox: StartSandbox) -> None:
    api = start_sandbox()
    rng = api.server.sandbox.store.id_rng
    state_before = rng.getstate()
    deleted = api.created()
    assert api.delete(deleted["id"]).status_code == 204
    # Rewind the id RNG so the very next candidate is the deleted id.
    rng.setstate(state_before)
    again = api.created()
    assert again["id"] != deleted["id"]


def test_it_mints_unique_eight_character_ids_across_projects(api: Api) -> None:
    ids = {api.created(key=f"test_sk_project{n % 3}abc")["id"] for n in range(60)}
    assert len(ids) == 60


def test_it_lets_an_errored_integration_be_paused_or_resumed_keeping_error_fields(api: Api) -> None:
    created = api.created()
    api.set_status(created["id"], {"status": 1})
    errored = api.deliver(created["id"], "failure", count=5)
    assert errored["active"] == 2
    paused = api.set_status(created["id"], {"status": 0}).json()
    assert paused["active"] == 0
    resumed = api.set_status(created["id"], {"status": 1}).json()
    assert resumed["active"] == 1
    for record in (paused, resumed):
        assert record["delivery_error_count"] == 5
        assert record["last_error_message"] == errored["last_error_message"]
        assert record["last_error_at"] == errored["last_error_at"]
