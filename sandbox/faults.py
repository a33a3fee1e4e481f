"""Injected faults for /v4 requests (control API: POST/DELETE /_sandbox/faults).

A fault is picked after authentication succeeded and before the request is
rate-limited or routed, so it simulates the server or network failing for a
request the real API would otherwise have accepted.  By default it applies
before handling (nothing happens server-side); with ``after: true`` the request
is handled first and only the response is delayed, dropped or replaced.
Queued faults are matched first-in-first-out; each applies to the next
``times`` matching requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from sandbox.errors import ApiError, FieldError
from sandbox.responses import Response

# Default error code for a status fault, when the caller names none.
_DEFAULT_CODES = {
    400: "invalid_request",
    401: "control_unauthorized",
    403: "control_forbidden",
    404: "not_found",
    409: "already_exists",
    422: "invalid_data",
    429: "rate_limit_exceeded",
}
_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass
class Fault:
    method: str | None = None  # None = any method
    path_prefix: str = "/v4"
    status: int | None = None
    code: str | None = None
    type: str | None = None
    message: str | None = None
    delay: float = 0.0
    drop: bool = False
    retry_after: int | None = None
    times: int = 1
    # False: the fault replaces handling (nothing changes server-side).
    # True: the request is handled first (e.g. the record IS created) and the
    # fault then delays/drops/replaces the response - a lost-response scenario.
    after: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path_prefix)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def outcome(self) -> Response | None:
        """Sleep for ``delay``, then the response to send (None = handle normally)."""
        if self.delay:
            time.sleep(self.delay)
        if self.drop:
            return Response.dropped()
        if self.status is None:
            return None
        status = self.status
        headers: tuple[tuple[str, str], ...] = ()
        if self.retry_after is not None:
            headers = (("Retry-After", str(self.retry_after)),)
        error = ApiError(
            status,
            self.code or _DEFAULT_CODES.get(status, "unknown_error"),
            self.message or f"Injected sandbox fault (HTTP {status})",
            error_type=self.type or ("internal" if status >= 500 else "request"),
            headers=headers,
        )
        return error.to_response()


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        """Snapshots, so a concurrent ``take`` cannot change what the caller reads."""
        with self._lock:
            return [replace(fault) for fault in self._faults]

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching this request."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
            return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_non_empty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


# field -> (accepts the JSON value?, message when not); absent or null = default.
_FIELD_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "method": (
        lambda v: isinstance(v, str) and v.upper() in _HTTP_METHODS,
        f"Must be one of {', '.join(_HTTP_METHODS)}",
    ),
    "path_prefix": (lambda v: isinstance(v, str) and v.startswith("/"), "Must be a path starting with '/'"),
    "status": (lambda v: _is_int(v) and 400 <= v <= 599, "Must be an integer 400..599"),
    "code": (_is_non_empty_str, "Must be a non-empty string"),
    "type": (_is_non_empty_str, "Must be a non-empty string"),
    "message": (_is_non_empty_str, "Must be a non-empty string"),
    "delay": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= 0,
        "Must be a number >= 0 (seconds)",
    ),
    "drop": (lambda v: isinstance(v, bool), "Must be a boolean"),
    "retry_after": (lambda v: _is_int(v) and v >= 0, "Must be an integer >= 0 (seconds)"),
    "times": (lambda v: _is_int(v) and v >= 1, "Must be an integer >= 1"),
    "after": (lambda v: isinstance(v, bool), "Must be a boolean"),
}


def parse_fault(body: dict[str, Any]) -> Fault:
    """Validate a POST /_sandbox/faults body; raises 400 invalid_data."""
    problems: list[FieldError] = []
    values: dict[str, Any] = {}
    for name, (accepts, message) in _FIELD_RULES.items():
        value = body.get(name)
        if value is None:
            continue
        if accepts(value):
            values[name] = value
        else:
            problems.append(FieldError(name, message))
    if "method" in values:
        values["method"] = values["method"].upper()
    if "delay" in values:
        values["delay"] = float(values["delay"])
    if not problems and "status" not in values and not values.get("drop") and not values.get("delay"):
        problems.append(FieldError("status", "A fault needs at least one of status, drop, delay"))
    if problems:
        raise ApiError(400, "invalid_data", "Validation failed", details=problems)
    return Fault(**values)
