"""Every [unknown] resolved as a switch: non-default values and config parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.config import SandboxConfig, load_settings, switch_fields

from .conftest import Api, StartSandbox, assert_error


def test_it_can_answer_create_with_200(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(create_status=200)
    response = api.create(idempotency_key="k")
    assert response.status_code == 200
    assert response.json()["object"] == "integration"
    assert api.create(idempotency_key="k").status_code == 200  # replays keep the first status


def test_it_can_answer_delete_with_200_and_the_integration(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(delete_status=200)
    created = api.created()
    api.set_status(created["id"], {"status": 1})
    api.clock.advance(5)
    response = api.delete(created["id"])
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["active"] == 0  # a deleted record forwards nothing
    assert body["updated_at"] == "2026-02-26T16:03:14Z"
    assert api.delete(created["id"]).status_code == 404


def test_it_can_use_400_for_validation_errors(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(validation_status=400)
    error = assert_error(api.create(title=""), 400, "invalid_data")
    assert error["details"][0]["field"] == "title"
    created = api.created()
    assert_error(api.set_status(created["id"], {"status": 2}), 400, "invalid_data")


def test_it_can_keep_deleted_integrations_in_the_list(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(deleted_in_list=True)
    created = api.created()
    api.set_status(created["id"], {"status": 1})
    api.delete(created["id"])
    [listed] = api.integrations()
    assert listed["id"] == created["id"]
    assert listed["active"] == 0
    assert len(listed) == 13  # no extra "deleted" field: the contract has none
    assert api.set_status(created["id"], {"status": 1}).status_code == 404


def test_it_uses_the_documented_defaults(api: Api) -> None:
    config = api.server.sandbox.config
    assert (config.create_status, config.delete_status, config.validation_status) == (201, 204, 422)
    assert config.deleted_in_list is False
    assert config.idempotency_ttl == 86400
    assert config.idempotency_mismatch == "conflict"
    assert (config.replay_failures, config.replay_header) == (False, True)
    assert (config.rate_limit, config.retry_after_header) == (0, True)
    assert (config.error_threshold, config.failure_rate, config.delivery_interval) == (5, 0.2, 0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"create_status": 202},
        {"delete_status": 201},
        {"validation_status": 409},
        {"idempotency_mismatch": "ignore"},
        {"failure_rate": 1.5},
        {"error_threshold": 0},
        {"rate_window": 0},
        {"idempotency_ttl": 0},
    ],
)
def test_it_refuses_invalid_settings(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(overrides))):
        SandboxConfig(**overrides)  # type: ignore[arg-type]


def test_it_reads_settings_from_env_with_the_cli_winning() -> None:
    env = {
        "QONVERSION_SANDBOX_CREATE_STATUS": "200",
        "QONVERSION_SANDBOX_DELETED_IN_LIST": "true",
        "QONVERSION_SANDBOX_FAILURE_RATE": "0.5",
        "QONVERSION_SANDBOX_SEED": "9",
        "QONVERSION_SANDBOX_PORT": "9999",
        "QONVERSION_SANDBOX_IDEMPOTENCY_MISMATCH": "replay",
    }
    settings = load_settings(["--create-status", "201", "--no-replay-header", "--port", "1234"], env)
    config = settings.config
    assert config.create_status == 201  # CLI beats env
    assert config.deleted_in_list is True
    assert config.failure_rate == 0.5
    assert config.seed == 9
    assert config.idempotency_mismatch == "replay"
    assert config.replay_header is False
    assert (settings.host, settings.port) == ("127.0.0.1", 1234)
    assert load_settings([], env).port == 9999


def test_it_defaults_every_setting_without_flags_or_env() -> None:
    settings = load_settings([], {})
    assert settings.config == SandboxConfig()
    assert (settings.host, settings.port) == ("127.0.0.1", 8765)


def test_it_exits_with_a_usage_error_for_bad_values() -> None:
    with pytest.raises(SystemExit):
        load_settings([], {"QONVERSION_SANDBOX_DELETED_IN_LIST": "maybe"})
    with pytest.raises(SystemExit):
        load_settings(["--delete-status", "202"], {})


def test_it_documents_every_setting_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "sandbox" / "README.md").read_text(encoding="utf-8")
    for config_field in switch_fields():
        assert f"`{config_field.name}`" in readme, config_field.name
        flag = config_field.name.replace("_", "-")
        assert f"--{flag}" in readme or f"--[no-]{flag}" in readme, config_field.name
