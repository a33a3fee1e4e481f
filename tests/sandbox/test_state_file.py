"""``--state-file``: records, ids and idempotency records survive a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.sandbox.conftest import KEY, OTHER_KEY, VALID_BODY, StartSandbox, assert_error
from tests.sandbox.test_cli import REPO_ROOT, start


def test_it_keeps_records_and_deletion_marks_across_a_restart(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    state = str(tmp_path / "sandbox.json")
    first = start_sandbox(state_file=state, deleted_in_list=True)
    kept = first.created(title="Kept")
    gone = first.created(title="Gone")
    other = first.created(key=OTHER_KEY, title="Other project")
    assert first.set_status(kept["id"], {"status": 1}).status_code == 200
    assert first.delete(gone["id"]).status_code == 204
    before = first.integrations()
    first.server.shutdown()
    first.server.server_close()

    second = start_sandbox(state_file=state, deleted_in_list=True)
    assert second.integrations() == before  # same records, same fields, deleted one still listed as deleted
    assert [item["title"] for item in second.integrations(key=OTHER_KEY)] == ["Other project"]
    assert_error(second.delete(gone["id"]), 404, "not_found", error_type="resource")  # still deleted
    assert_error(second.set_status(gone["id"], {"status": 1}), 404, "not_found", error_type="resource")
    assert second.set_status(kept["id"], {"status": 0}).json()["active"] == 0
    assert other["id"] != kept["id"]


def test_it_never_hands_out_an_id_twice_across_restarts_with_the_same_seed(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    state = str(tmp_path / "sandbox.json")
    seen: set[str] = set()
    for _restart in range(3):
        api = start_sandbox(state_file=state)  # seed 42 every time
        for number in range(3):
            record = api.created(title=f"Run {_restart} #{number}")
            assert record["id"] not in seen
            seen.add(record["id"])
        assert api.delete(record["id"]).status_code == 204
        api.server.shutdown()
        api.server.server_close()
    assert len(seen) == 9
    # Without a state file the same seed hands out the first run's ids again.
    fresh = start_sandbox()
    assert fresh.created()["id"] in seen


def test_it_replays_an_idempotent_create_after_a_restart(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    state = str(tmp_path / "sandbox.json")
    first = start_sandbox(state_file=state)
    original = first.create(idempotency_key="submission-1")
    first.server.shutdown()
    first.server.server_close()

    second = start_sandbox(state_file=state)
    replay = second.create(idempotency_key="submission-1")
    assert replay.status_code == original.status_code == 201
    assert replay.content == original.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(second.integrations()) == 1


def test_it_saves_after_each_change_before_answering(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    state = tmp_path / "nested" / "sandbox.json"
    api = start_sandbox(state_file=str(state))
    record = api.created(title="Saved at once")
    saved = json.loads(state.read_text(encoding="utf-8"))  # no stop, no flush: already on disk
    assert [item["title"] for item in saved["projects"][KEY]] == ["Saved at once"]
    assert record["id"] in saved["minted_ids"]
    api.deliver(record["id"], "failure", count=2)
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert saved["projects"][KEY][0]["delivery_error_count"] == 2
    assert not list(state.parent.glob("*.tmp"))  # the temporary file was renamed, not left behind
    assert state.stat().st_mode & 0o077 == 0  # keyed by secret keys: owner-only


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[]", b'{"format": "something else"}', b"\xff\xfe", b'{"format": "qonversion-sandbox-state"}'],
)
def test_it_starts_empty_with_a_message_when_the_file_is_unusable(
    start_sandbox: StartSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    state = tmp_path / "sandbox.json"
    state.write_bytes(content)
    api = start_sandbox(state_file=str(state))
    assert api.integrations() == []
    message = capsys.readouterr().err
    assert f"could not load the state file {state}" in message
    assert "starting with an empty sandbox" in message
    assert (tmp_path / "sandbox.json.corrupt").read_bytes() == content  # kept for a look
    api.created()
    assert json.loads(state.read_text(encoding="utf-8"))["format"] == "qonversion-sandbox-state"


def test_reset_empties_the_state_file_too(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    api = start_sandbox(state_file=str(state))
    api.created()
    assert api.control("POST", "/reset").status_code == 200
    assert json.loads(state.read_text(encoding="utf-8"))["projects"] == {}


def test_it_keeps_state_across_a_kill_of_the_process(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    headers = {"Authorization": f"Bearer {KEY}"}
    process, api_url = start("--seed", "42", "--state-file", str(state))
    try:
        created = requests.post(api_url + "/integrations", json=VALID_BODY, headers=headers, timeout=5).json()
        deleted = requests.post(api_url + "/integrations", json=VALID_BODY, headers=headers, timeout=5).json()
        assert requests.delete(f"{api_url}/integrations/{deleted['id']}", headers=headers, timeout=5).ok
    finally:
        os.kill(process.pid, signal.SIGKILL)  # no chance to save at shutdown
        process.communicate(timeout=10)

    process, api_url = start("--seed", "42", "--state-file", str(state))
    try:
        listed = requests.get(api_url + "/integrations", headers=headers, timeout=5).json()["data"]
        assert [item["id"] for item in listed] == [created["id"]]
        new = requests.post(api_url + "/integrations", json=VALID_BODY, headers=headers, timeout=5).json()
        assert new["id"] not in (created["id"], deleted["id"])
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_the_cli_reports_an_unusable_state_file_and_serves_anyway(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    state.write_text("{truncated", encoding="utf-8")
    process, api_url = start("--state-file", str(state))
    try:
        response = requests.get(api_url + "/integrations", headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
        assert response.json()["data"] == []
    finally:
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"could not load the state file {state}" in stderr


def test_the_state_file_flag_is_documented_in_the_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert "--state-file" in result.stdout
