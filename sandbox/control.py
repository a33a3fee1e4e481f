"""Sandbox-only control API under /_sandbox - NOT part of Qonversion.

No authentication; JSON in and out; errors use the same envelope as /v4 with
status 400 (invalid_data with details for field problems) or 404.  Control
requests are never faulted, rate-limited, or written to the request log.
"""

from __future__ import annotations

from typing import Any

from sandbox.app import Sandbox
from sandbox.auth import is_secret_key
from sandbox.delivery import (
    DEFAULT_FAILURE_MESSAGE,
    record_failure,
    record_success,
    run_round,
)
from sandbox.errors import ApiError, FieldError, not_found
from sandbox.faults import parse_fault
from sandbox.responses import Response
from sandbox.routing import Request, Route, route
from sandbox.store import Integration
from sandbox.validation import (
    FieldValidationError,
    is_int,
    parse_json_object,
    validate_new_integration,
)

CONTROL_PREFIX = "/_sandbox"
MAX_FORCED_DELIVERIES = 10_000
OK: dict[str, Any] = {"ok": True}


def _invalid(details: list[FieldError]) -> ApiError:
    return ApiError(400, "invalid_data", "Validation failed", details=details)


def _body(request: Request) -> dict[str, Any]:
    """Control bodies are optional: an empty body means ``{}``."""
    return parse_json_object(request.body) if request.body.strip() else {}


def _project_key(body: dict[str, Any], problems: list[FieldError]) -> str | None:
    key = body.get("key")
    if not isinstance(key, str) or not is_secret_key(key):
        problems.append(FieldError("key", "Must be a valid, non-revoked secret key"))
        return None
    return key


def reset(sandbox: Sandbox, request: Request, _params: dict[str, str]) -> Response:
    _body(request)  # no options, but a malformed body is still a 400
    sandbox.reset()
    return Response.json(200, OK)


def list_faults(sandbox: Sandbox, _request: Request, _params: dict[str, str]) -> Response:
    return Response.json(200, {"data": [fault.to_json() for fault in sandbox.faults.pending()]})


def add_fault(sandbox: Sandbox, request: Request, _params: dict[str, str]) -> Response:
    fault = parse_fault(_body(request))
    sandbox.faults.add(fault)
    return Response.json(200, {"ok": True, "fault": fault.to_json()})


def clear_faults(sandbox: Sandbox, _request: Request, _params: dict[str, str]) -> Response:
    sandbox.faults.clear()
    return Response.json(200, OK)


def force_deliveries(sandbox: Sandbox, request: Request, _params: dict[str, str]) -> Response:
    body = _body(request)
    problems: list[FieldError] = []
    key = _project_key(body, problems)
    integration_id = body.get("integration_id")
    if not isinstance(integration_id, str) or not integration_id:
        problems.append(FieldError("integration_id", "Required"))
    outcome = body.get("outcome")
    if outcome not in ("success", "failure"):
        problems.append(FieldError("outcome", "Must be 'success' or 'failure'"))
    count = body.get("count", 1)
    if not is_int(count) or not 1 <= count <= MAX_FORCED_DELIVERIES:
        problems.append(FieldError("count", f"Must be an integer 1..{MAX_FORCED_DELIVERIES}"))
    message = body.get("message", DEFAULT_FAILURE_MESSAGE)
    if not isinstance(message, str) or not message:
        problems.append(FieldError("message", "Must be a non-empty string"))
    if problems or key is None or not isinstance(integration_id, str):
        raise _invalid(problems)

    store = sandbox.store
    with store.lock:
        record: Integration | None = store.find_live(key, integration_id)
        if record is None:
            raise not_found(f"Integration '{integration_id}'")
        for _ in range(count):
            if outcome == "success":
                # A success never changes `active` (a 2 stays 2 until a caller
                # sends status 1), it only resets the failure count.
                record_success(store, record)
            else:
                record_failure(store, record, message)
        return Response.json(200, record.to_wire())


def tick(sandbox: Sandbox, request: Request, _params: dict[str, str]) -> Response:
    _body(request)  # no options, but a malformed body is still a 400
    return Response.json(200, run_round(sandbox.store).to_json())


def list_requests(sandbox: Sandbox, _request: Request, _params: dict[str, str]) -> Response:
    return Response.json(200, [entry.to_json() for entry in sandbox.store.request_log()])


def clear_requests(sandbox: Sandbox, _request: Request, _params: dict[str, str]) -> Response:
    sandbox.store.clear_request_log()
    return Response.json(200, OK)


def seed_integration(sandbox: Sandbox, request: Request, _params: dict[str, str]) -> Response:
    """Create a record "as if another tool had done it" (no idempotency, no log)."""
    body = _body(request)
    problems: list[FieldError] = []
    key = _project_key(body, problems)
    active = body.get("active", 0)
    if not is_int(active) or active not in (0, 1):
        problems.append(FieldError("active", "Must be 0 or 1"))
    try:
        new = validate_new_integration(body, sandbox.catalog)
    except FieldValidationError as invalid:
        problems.extend(invalid.details)
        new = None
    if problems or key is None or new is None:
        raise _invalid(problems)
    with sandbox.store.lock:
        record = sandbox.store.add_integration(
            key,
            title=new.title,
            slug=new.provider.slug,
            display_title=new.provider.title,
            target_platform=new.target_platform,
            active=int(active),
        )
        return Response.json(201, record.to_wire())


CONTROL_ROUTES: list[Route] = [
    route("POST", r"/_sandbox/reset", reset),
    route("GET", r"/_sandbox/faults", list_faults),
    route("POST", r"/_sandbox/faults", add_fault),
    route("DELETE", r"/_sandbox/faults", clear_faults),
    route("POST", r"/_sandbox/deliveries", force_deliveries),
    route("POST", r"/_sandbox/tick", tick),
    route("GET", r"/_sandbox/requests", list_requests),
    route("DELETE", r"/_sandbox/requests", clear_requests),
    route("POST", r"/_sandbox/integrations", seed_integration),
]
