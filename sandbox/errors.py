"""The v4 error envelope (§6) and the errors the sandbox raises.

``{"error": {"type", "code", "message"[, "details"]}}`` - ``details`` is left out
entirely (not null, not []) unless the problem is tied to request fields [doc].

Which ``type`` goes with which code is only partly documented; the sandbox uses:
request  - auth (401/403), invalid_request (bad JSON, unknown URL, wrong method),
           invalid_data (field validation, [doc]), rate_limit_exceeded, and the
           idempotency-key conflict (the caller reused a key: a request problem);
resource - not_found (the request is fine, the record does not exist);
internal - injected 5xx faults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.responses import Response


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ApiError(Exception):
    """Raised anywhere inside a handler; rendered as the v4 error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        error_type: str = "request",
        details: list[FieldError] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.details = details
        self.headers = headers

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "type": self.error_type,
            "code": self.code,
            "message": self.message,
        }
        if self.details:
            error["details"] = [{"field": d.field, "message": d.message} for d in self.details]
        return {"error": error}

    def to_response(self) -> Response:
        response = Response.json(self.status, self.envelope())
        for name, value in self.headers:
            response = response.with_header(name, value)
        return response


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "control_unauthorized", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "control_forbidden", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def unknown_url(method: str, path: str) -> ApiError:
    return ApiError(404, "invalid_request", f"Unrecognized request URL ({method} {path})")


def method_not_allowed(method: str, path: str, allowed: list[str]) -> ApiError:
    return ApiError(
        405,
        "invalid_request",
        f"Method {method} is not allowed for {path}",
        headers=(("Allow", ", ".join(allowed)),),
    )


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found", error_type="resource")


def validation_failed(status: int, details: list[FieldError]) -> ApiError:
    return ApiError(status, "invalid_data", "Validation failed", details=details)
