"""Shared fixtures: an in-process sandbox per test, driven over real HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import requests

from sandbox import ManualClock, SandboxConfig
from sandbox.server import SandboxServer, serving_sandbox

KEY = "test_sk_alpha1234wxyz"
OTHER_KEY = "sk_bravo5678abcd"
VALID_BODY: dict[str, Any] = {"title": "Amplitude iOS", "integration": "amplitude", "target_platform": "iOS"}


class Api:
    """Thin requests wrapper: /v4 calls carry a bearer key, control calls do not."""

    def __init__(self, server: SandboxServer, clock: ManualClock) -> None:
        self.server = server
        self.root = server.root_url
        self.clock = clock
        self.session = requests.Session()

    # --- /v4 ---------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = KEY,
        json: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 5,
    ) -> requests.Response:
        all_headers = dict(headers or {})
        if key is not None:
            all_headers.setdefault("Authorization", f"Bearer {key}")
        return self.session.request(
            method, self.root + path, json=json, data=data, headers=all_headers, timeout=timeout
        )

    def integrations(self, key: str = KEY) -> list[dict[str, Any]]:
        response = self.call("GET", "/v4/integrations", key=key)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def create(self, key: str = KEY, idempotency_key: str | None = None, **fields: Any) -> requests.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.call("POST", "/v4/integrations", key=key, json={**VALID_BODY, **fields}, headers=headers)

    def created(self, key: str = KEY, **fields: Any) -> dict[str, Any]:
        response = self.create(key=key, **fields)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def set_status(self, integration_id: str, body: Any, key: str = KEY) -> requests.Response:
        return self.call("POST", f"/v4/integrations/{integration_id}/status", key=key, json=body)

    def delete(self, integration_id: str, key: str = KEY) -> requests.Response:
        return self.call("DELETE", f"/v4/integrations/{integration_id}", key=key)

    # --- /_sandbox -----------------------------------------------------------

    def control(self, method: str, path: str, json: Any = None) -> requests.Response:
        return self.session.request(method, self.root + "/_sandbox" + path, json=json, timeout=5)

    def deliver(self, integration_id: str, outcome: str, count: int = 1, key: str = KEY) -> dict[str, Any]:
        response = self.control(
            "POST",
            "/deliveries",
            {"key": key, "integration_id": integration_id, "outcome": outcome, "count": count},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def tick(self) -> dict[str, int]:
        response = self.control("POST", "/tick", {})
        assert response.status_code == 200, response.text
        body: dict[str, int] = response.json()
        return body

    def request_log(self) -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = self.control("GET", "/requests").json()
        return body


StartSandbox = Callable[..., Api]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def start_sandbox(clock: ManualClock) -> Iterator[StartSandbox]:
    """Factory: start a sandbox with config overrides (seed 42, manual clock)."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> Api:
            config = dataclasses.replace(SandboxConfig(seed=42, clock=clock), **overrides)
            server = stack.enter_context(serving_sandbox(config))
            api = Api(server, clock)
            stack.callback(api.session.close)
            return api

        yield start


@pytest.fixture
def api(start_sandbox: StartSandbox) -> Api:
    return start_sandbox()


def assert_error(response: requests.Response, status: int, code: str, *, error_type: str = "request") -> dict[str, Any]:
    """Status, JSON content type and the v4 envelope; returns the ``error`` object."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    assert error["type"] == error_type
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def assert_no_details(error: dict[str, Any]) -> None:
    assert "details" not in error  # omitted entirely, not null / []
    assert set(error) == {"type", "code", "message"}
