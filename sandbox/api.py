"""The Qonversion v4 Integrations endpoints (§3).

Processing order for every /v4 request:
1. authenticate (401/403 - these are never faulted nor rate-limited);
2. take a queued fault, if one matches, and apply it now (or, with
   ``after``, once step 4 has run);
3. count the request against the rate limit (429);
4. route (404 invalid_request / 405) and run the endpoint.
"""

from __future__ import annotations

import hashlib
import json

from sandbox.app import Sandbox
from sandbox.auth import authenticate
from sandbox.errors import ApiError, not_found, validation_failed
from sandbox.responses import Response
from sandbox.routing import Request, Route, dispatch, route
from sandbox.store import Integration
from sandbox.validation import (
    FieldValidationError,
    is_valid_integration_id,
    parse_json_object,
    validate_new_integration,
    validate_status_value,
)

LIST_URL = "/v4/integrations"
META_URL = "/v4/integrations/meta"
REPLAY_HEADER = "Idempotent-Replayed"


def list_integrations(sandbox: Sandbox, request: Request, _params: dict[str, str]) -> Response:
    with sandbox.store.lock:  # serialise under the lock: no half-updated record
        records = sandbox.store.integrations(request.project_key, include_deleted=sandbox.config.deleted_in_list)
        data = [record.to_wire() for record in records]
    return Response.json(
        200,
        {
            "object": "list",
            "url": LIST_URL,
            "data": data,
            "has_more": False,  # §3.1/§8 [doc]: no pagination
        },
    )


def integrations_meta(sandbox: Sandbox, _request: Request, _params: dict[str, str]) -> Response:
    return Response.json(
        200,
        {
            "object": "integrations_meta",
            "url": META_URL,
            "data": sandbox.catalog.meta_data(),
        },
    )


def _create_once(sandbox: Sandbox, request: Request) -> Response:
    """The create itself, without idempotency; errors become responses."""
    try:
        body = parse_json_object(request.body)
        new = validate_new_integration(body, sandbox.catalog)
    except FieldValidationError as invalid:
        return validation_failed(sandbox.config.validation_status, invalid.details).to_response()
    except ApiError as error:
        return error.to_response()
    with sandbox.store.lock:
        record = sandbox.store.add_integration(
            request.project_key,
            title=new.title,
            slug=new.provider.slug,
            display_title=new.provider.title,
            target_platform=new.target_platform,
        )
        return Response.json(sandbox.config.create_status, record.to_wire())


def request_fingerprint(body: bytes) -> str:
    """Identity of a create body for idempotency: canonical JSON when it parses
    (so key order and whitespace do not matter), otherwise the raw bytes."""
    try:
        canonical = json.dumps(json.loads(body.decode("utf-8")), sort_keys=True)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "raw:" + hashlib.sha256(body).hexdigest()
    return "json:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def create_integration(sandbox: Sandbox, request: Request, _params: dict[str, str]) -> Response:
    idempotency_key = (request.header("Idempotency-Key") or "").strip()
    if not idempotency_key:  # absent or blank header: no idempotency (sandbox choice)
        return _create_once(sandbox, request)

    config = sandbox.config
    store = sandbox.store
    fingerprint = request_fingerprint(request.body)
    # One lock across look-up, create and remember: two concurrent requests with
    # the same key can never both create a record.
    with store.lock:
        record = store.idempotency_record(request.project_key, idempotency_key)
        if record is not None:
            if record.fingerprint != fingerprint and config.idempotency_mismatch == "conflict":
                raise ApiError(
                    409,
                    "already_exists",
                    "This Idempotency-Key was already used with a different request body",
                )
            replay = record.response
            if config.replay_header:
                replay = replay.with_header(REPLAY_HEADER, "true")
            return replay
        response = _create_once(sandbox, request)
        if response.is_success or config.replay_failures:
            store.remember_response(request.project_key, idempotency_key, fingerprint, response)
        return response


def _live_integration(sandbox: Sandbox, request: Request, integration_id: str) -> Integration:
    """The caller's not-deleted integration, else 404 not_found (§3.4, §12.5)."""
    if not is_valid_integration_id(integration_id):
        raise not_found("Integration")
    record = sandbox.store.find_live(request.project_key, integration_id)
    if record is None:
        raise not_found(f"Integration '{integration_id}'")
    return record


def update_status(sandbox: Sandbox, request: Request, params: dict[str, str]) -> Response:
    with sandbox.store.lock:
        # Sandbox choice: the id is resolved (404) before the body is read (400/422).
        record = _live_integration(sandbox, request, params["integration_id"])
        body = parse_json_object(request.body)
        try:
            status = validate_status_value(body)
        except FieldValidationError as invalid:
            raise validation_failed(sandbox.config.validation_status, invalid.details) from None
        # Same value again is a 200 no-op; from 2 both 0 and 1 are allowed, and
        # error fields/count are kept (the count resets only on a delivery success).
        sandbox.store.set_active(record, status)
        return Response.json(200, record.to_wire())


def delete_integration(sandbox: Sandbox, request: Request, params: dict[str, str]) -> Response:
    with sandbox.store.lock:
        record = _live_integration(sandbox, request, params["integration_id"])
        sandbox.store.soft_delete(record)
        if sandbox.config.delete_status == 200:
            return Response.json(200, record.to_wire())
        return Response.empty(204)


_ID = r"(?P<integration_id>[^/]+)"
V4_ROUTES: list[Route] = [
    route("GET", r"/v4/integrations", list_integrations),
    route("POST", r"/v4/integrations", create_integration),
    route("GET", r"/v4/integrations/meta", integrations_meta),
    route("POST", rf"/v4/integrations/{_ID}/status", update_status),
    route("DELETE", rf"/v4/integrations/{_ID}", delete_integration),
]


def handle_v4(sandbox: Sandbox, request: Request) -> Response:
    """Full /v4 pipeline; ApiError from any step is left to the caller to render."""
    project_key = authenticate(request.header("Authorization"))
    fault = sandbox.faults.take(request.method, request.path)
    if fault is not None and not fault.after:
        faulted = fault.outcome()
        if faulted is not None:
            return faulted
    sandbox.rate_limiter.hit(project_key)
    authed = Request(
        method=request.method,
        path=request.path,
        headers=request.headers,
        body=request.body,
        project_key=project_key,
    )
    if fault is None or not fault.after:
        return dispatch(V4_ROUTES, sandbox, authed)
    try:
        handled = dispatch(V4_ROUTES, sandbox, authed)
    except ApiError as error:
        handled = error.to_response()
    return fault.outcome() or handled
