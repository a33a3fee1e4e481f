"""Injected faults for /v4 requests (control API: POST/DELETE /_sandbox/faults).

A fault is picked after authentication succeeded and before the request is
rate-limited or routed, so it simulates the server or network failing for a
request the real API would otherwise have accepted.  By default it applies
before handling (nothing happens server-side); with ``after: true`` the request
is handled first and only the response is delayed, dropped or replaced.
Queued faults are matched first-in-first-out; each applies to the next
``times`` matching requests (``times: 0``: until the faults are cleared).

A fault may answer with a garbage body instead of the error envelope
(``garbage``: not_json, truncated_json, wrong_shape, empty), with any status,
and may apply to only a share of the matching requests (``rate``).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from http import HTTPStatus
from typing import Any

from sandbox.errors import ApiError, FieldError
from sandbox.responses import Response, encode_json

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

# --- garbage bodies ----------------------------------------------------------

GARBAGE_KINDS = ("not_json", "truncated_json", "wrong_shape", "empty")
# Statuses whose response never has a body: only the ``empty`` kind fits them.
_BODILESS_STATUSES = (204, 304)
# A well-formed Integration object (§4), the base of several garbage bodies.
_SAMPLE_INTEGRATION: dict[str, Any] = {
    "object": "integration",
    "id": "gNl6hyM6",
    "url": "/v4/integrations/gNl6hyM6",
    "title": "Amplitude iOS",
    "integration": "Amplitude",
    "target_platform": "iOS",
    "active": 0,
    "created_at": "2026-02-26T16:03:09Z",
    "updated_at": "2026-02-26T16:03:09Z",
    "last_delivery_at": None,
    "last_error_at": None,
    "last_error_message": None,
    "delivery_error_count": 0,
}
# ``wrong_shape``: valid JSON that is not what the endpoint returns. A fault with a
# ``shape`` always sends that one; without, each use takes the next, so
# ``times: len(WRONG_SHAPES)`` shows a client all of them.
WRONG_SHAPES: tuple[Any, ...] = (
    [_SAMPLE_INTEGRATION],  # a bare array instead of an object
    "OK",  # a string
    {"data": 5},  # a list object whose data is not an array
    {**_SAMPLE_INTEGRATION, "active": "yes"},  # an Integration with a field of the wrong type
    None,  # JSON null
    {"error": "Something went wrong"},  # an "error" that is not the v4 envelope
    # A list naming one record twice (ids are unique, so this cannot be a real list).
    {"object": "list", "url": "/v4/integrations", "data": [_SAMPLE_INTEGRATION] * 2, "has_more": False},
)


def _html_error_page(status: int) -> bytes:
    """What a proxy or load balancer in front of an API typically answers with."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    heading = f"{status} {phrase}"
    return (
        f"<!DOCTYPE html>\n<html><head><title>{heading}</title></head>\n"
        f"<body><h1>{heading}</h1>\n<p>The server could not complete your request.</p>\n"
        "<hr><address>nginx</address></body></html>\n"
    ).encode()


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
    times: int = 1  # 0 = until the faults are cleared
    # False: the fault replaces handling (nothing changes server-side).
    # True: the request is handled first (e.g. the record IS created) and the
    # fault then delays/drops/replaces the response - a lost-response scenario.
    after: bool = False
    # Answer with this kind of garbage body (GARBAGE_KINDS) and ``status`` (default 200).
    garbage: str | None = None
    # Share of the matching requests the fault applies to (0 < rate <= 1).
    rate: float = 1.0
    # Seed of this fault's own draws for ``rate``; None = the queue's random source.
    seed: int | None = None
    # Which of WRONG_SHAPES a ``wrong_shape`` fault sends; None = the next one each use.
    shape: int | None = None
    # Not part of the definition: this fault's random source and use counter.
    _rng: random.Random | None = field(default=None, init=False, repr=False, compare=False)
    _uses: int = field(default=0, init=False, repr=False, compare=False)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path_prefix)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    def outcome(self) -> Response | None:
        """Sleep for ``delay``, then the response to send (None = handle normally)."""
        if self.delay:
            time.sleep(self.delay)
        if self.drop:
            return Response.dropped()
        if self.garbage is not None:
            return self._garbage_response()
        if self.status is None:
            return None
        return self._error().to_response()

    def _retry_after_headers(self) -> tuple[tuple[str, str], ...]:
        if self.retry_after is None:
            return ()
        return (("Retry-After", str(self.retry_after)),)

    def _error(self) -> ApiError:
        status = self.status or 500
        return ApiError(
            status,
            self.code or _DEFAULT_CODES.get(status, "unknown_error"),
            self.message or f"Injected sandbox fault (HTTP {status})",
            error_type=self.type or ("internal" if status >= 500 else "request"),
            headers=self._retry_after_headers(),
        )

    def _garbage_response(self) -> Response:
        status = self.status or 200
        headers = self._retry_after_headers()
        if self.garbage == "empty":
            return Response(status=status, body=b"", headers=headers)
        if self.garbage == "not_json":
            headers = (*headers, ("Content-Type", "text/html; charset=utf-8"))
            return Response(status=status, body=_html_error_page(status), headers=headers)
        if self.garbage == "truncated_json":
            whole = encode_json(self._error().envelope() if status >= 400 else _SAMPLE_INTEGRATION)
            body = whole[: len(whole) // 2]
        else:  # wrong_shape
            shape = self._uses % len(WRONG_SHAPES) if self.shape is None else self.shape
            body = encode_json(WRONG_SHAPES[shape])
        return Response(status=status, body=body, headers=headers)  # the server labels bodies as JSON

    def _applies(self, queue_rng: random.Random) -> bool:
        """Whether this matching request gets the fault (a draw only when rate < 1)."""
        return self.rate >= 1 or (self._rng or queue_rng).random() < self.rate

    def _use(self) -> Fault:
        """Spend one use; returns a snapshot that knows which use it is."""
        used = replace(self)
        used._uses = self._uses
        self._uses += 1
        if self.times > 0:
            self.times -= 1
        return used


class FaultQueue:
    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._seed = seed
        self._rng = _fault_rng(seed)

    def add(self, fault: Fault) -> None:
        with self._lock:
            if fault.seed is not None:
                fault._rng = _fault_rng(fault.seed)
            self._faults.append(fault)

    def clear(self) -> None:
        """Drop every fault and restart the random source (reproducible after a reset)."""
        with self._lock:
            self._faults.clear()
            self._rng = _fault_rng(self._seed)

    def pending(self) -> list[Fault]:
        """Snapshots, so a concurrent ``take`` cannot change what the caller reads."""
        with self._lock:
            return [replace(fault) for fault in self._faults]

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault that matches and applies to this request.

        A fault with ``rate`` < 1 that does not apply (the draw missed) is passed
        over and stays queued, unspent; later faults may still match.
        """
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path) or not fault._applies(self._rng):
                    continue
                last_use = fault.times == 1
                used = fault._use()
                if last_use:
                    self._faults.remove(fault)
                return used
            return None


def _fault_rng(seed: int | None) -> random.Random:
    """Draws for ``rate`` (a simulation, not security); seeded = reproducible."""
    return random.Random(None if seed is None else f"faults:{seed}")  # noqa: S311


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_non_empty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# field -> (accepts the JSON value?, message when not); absent or null = default.
_FIELD_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "method": (
        lambda v: isinstance(v, str) and v.upper() in _HTTP_METHODS,
        f"Must be one of {', '.join(_HTTP_METHODS)}",
    ),
    "path_prefix": (lambda v: isinstance(v, str) and v.startswith("/"), "Must be a path starting with '/'"),
    # 400..599 unless the fault sends garbage (checked in parse_fault).
    "status": (lambda v: _is_int(v) and 200 <= v <= 599, "Must be an integer 400..599 (200..599 with garbage)"),
    "code": (_is_non_empty_str, "Must be a non-empty string"),
    "type": (_is_non_empty_str, "Must be a non-empty string"),
    "message": (_is_non_empty_str, "Must be a non-empty string"),
    "delay": (
        lambda v: _is_number(v) and v >= 0,
        "Must be a number >= 0 (seconds)",
    ),
    "drop": (lambda v: isinstance(v, bool), "Must be a boolean"),
    "retry_after": (lambda v: _is_int(v) and v >= 0, "Must be an integer >= 0 (seconds)"),
    "times": (lambda v: _is_int(v) and v >= 0, "Must be an integer >= 0 (0 = until cleared)"),
    "after": (lambda v: isinstance(v, bool), "Must be a boolean"),
    "garbage": (lambda v: v in GARBAGE_KINDS, f"Must be one of {', '.join(GARBAGE_KINDS)}"),
    "rate": (lambda v: _is_number(v) and 0 < v <= 1, "Must be a number 0 < rate <= 1"),
    "seed": (_is_int, "Must be an integer"),
    "shape": (
        lambda v: _is_int(v) and 0 <= v < len(WRONG_SHAPES),
        f"Must be an integer 0..{len(WRONG_SHAPES) - 1} (an index into the wrong shapes)",
    ),
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
    for name in ("delay", "rate"):
        if name in values:
            values[name] = float(values[name])
    problems.extend(_status_problems(values))
    effects = ("status", "drop", "delay", "garbage")
    if not problems and not any(values.get(name) for name in effects):
        problems.append(FieldError("status", "A fault needs at least one of status, drop, delay, garbage"))
    if problems:
        raise ApiError(400, "invalid_data", "Validation failed", details=problems)
    return Fault(**values)


def _status_problems(values: dict[str, Any]) -> list[FieldError]:
    """The status range depends on the body: the error envelope is 4xx/5xx only."""
    status, garbage = values.get("status"), values.get("garbage")
    if status is None:
        return []
    if garbage is None and status < 400:
        return [FieldError("status", "Must be an integer 400..599 (200..599 with garbage)")]
    if status in _BODILESS_STATUSES and garbage not in (None, "empty"):
        return [FieldError("status", f"HTTP {status} has no body: only garbage 'empty' fits it")]
    return []
