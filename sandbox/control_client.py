"""A small client for the sandbox's own control API (/_sandbox/…).

Not part of Qonversion: used by `seed_demo` to simulate deliveries and by tests to
inject faults and read the request log. Standard library only, like the sandbox.
"""

import json
import urllib.request
from typing import Any


class SandboxControl:
    def __init__(self, api_base: str, *, timeout: float = 10.0) -> None:
        # The contract lives under /v4; the control API sits beside it.
        root = api_base.rstrip("/")
        self.root = root[: -len("/v4")] if root.endswith("/v4") else root
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the sandbox is a local http URL we started
            self.root + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            payload = response.read()
        return json.loads(payload) if payload else None

    def is_sandbox(self) -> bool:
        try:
            self._call("GET", "/_sandbox/requests")
        except OSError:
            return False
        return True

    def reset(self) -> None:
        self._call("POST", "/_sandbox/reset", {})

    def add_fault(self, **fault: Any) -> None:
        """Queue a fault, e.g. ``add_fault(method="GET", status=500, rate=0.1, times=0)`` or
        ``add_fault(garbage="truncated_json", status=200, after=True)``; fields in README.md."""
        self._call("POST", "/_sandbox/faults", fault)

    def clear_faults(self) -> None:
        self._call("DELETE", "/_sandbox/faults")

    def deliveries(
        self, *, key: str, integration_id: str, outcome: str, count: int = 1, message: str | None = None
    ) -> Any:
        body: dict[str, Any] = {"key": key, "integration_id": integration_id, "outcome": outcome, "count": count}
        if message is not None:
            body["message"] = message
        return self._call("POST", "/_sandbox/deliveries", body)

    def tick(self) -> Any:
        return self._call("POST", "/_sandbox/tick", {})

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/requests")
        return result

    def clear_requests(self) -> None:
        self._call("DELETE", "/_sandbox/requests")

    def create_external(self, *, key: str, title: str, integration: str, target_platform: str, active: int = 0) -> Any:
        body = {
            "key": key,
            "title": title,
            "integration": integration,
            "target_platform": target_platform,
            "active": active,
        }
        return self._call("POST", "/_sandbox/integrations", body)
