"""Request-body parsing and field validation for the v4 endpoints.

Field problems are collected (every failing field is reported, §6 ``details``)
and raised as ``FieldValidationError``; the caller picks the HTTP status
(``validation_status`` for /v4, always 400 for the control API).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sandbox.catalog import TARGET_PLATFORMS, Catalog, Provider
from sandbox.errors import FieldError, bad_request

# §3.4 [doc]: path parameter pattern and maximum length.
INTEGRATION_ID_PATTERN = re.compile(r"^[a-zA-Z0-9._-]+$")
INTEGRATION_ID_MAX_LENGTH = 256
TITLE_MAX_LENGTH = 255  # §3.2 [doc]: 1-255, counted in characters after strip


class FieldValidationError(Exception):
    def __init__(self, details: list[FieldError]) -> None:
        super().__init__("; ".join(f"{d.field}: {d.message}" for d in details))
        self.details = details


def is_valid_integration_id(value: str) -> bool:
    return len(value) <= INTEGRATION_ID_MAX_LENGTH and bool(INTEGRATION_ID_PATTERN.match(value))


def is_int(value: Any) -> bool:
    """A JSON integer; booleans are ints in Python but not in JSON, so excluded."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, else 400 invalid_request (no details)."""
    if not body.strip():
        raise bad_request("Request body must be a JSON object")
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise bad_request(f"Request body is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise bad_request("Request body must be a JSON object")
    return parsed


@dataclass(frozen=True)
class NewIntegration:
    title: str
    provider: Provider
    target_platform: str


def _string_field(body: dict[str, Any], name: str, problems: list[FieldError]) -> str | None:
    value = body.get(name)
    if value is None:  # absent and explicit null are both "missing"
        problems.append(FieldError(name, "Required"))
        return None
    if not isinstance(value, str):
        problems.append(FieldError(name, "Must be a string"))
        return None
    return value


def validate_new_integration(body: dict[str, Any], catalog: Catalog) -> NewIntegration:
    """Validate a create body (§3.2); unknown extra fields are ignored."""
    problems: list[FieldError] = []

    title = _string_field(body, "title", problems)
    if title is not None:
        # Sandbox choice: the title is stored stripped, so the limits apply to it.
        title = title.strip()
        if not title:
            problems.append(FieldError("title", "Must not be empty"))
        elif len(title) > TITLE_MAX_LENGTH:
            problems.append(FieldError("title", f"Must be at most {TITLE_MAX_LENGTH} characters"))

    provider: Provider | None = None
    slug = _string_field(body, "integration", problems)
    if slug is not None:
        # Slugs are matched exactly (lowercase, as meta returns them).
        provider = catalog.provider(slug)
        if provider is None:
            problems.append(
                FieldError(
                    "integration",
                    f"Unknown integration '{slug}'; use a slug from GET /v4/integrations/meta",
                )
            )

    platform = _string_field(body, "target_platform", problems)
    if platform is not None:
        if platform not in TARGET_PLATFORMS:
            problems.append(
                FieldError(
                    "target_platform",
                    f"Must be one of {', '.join(TARGET_PLATFORMS)} (case-sensitive)",
                )
            )
        elif provider is not None and platform not in provider.allowed_stores:
            problems.append(
                FieldError(
                    "target_platform",
                    f"'{platform}' is not supported by {provider.slug}; allowed: {', '.join(provider.allowed_stores)}",
                )
            )

    if problems or title is None or provider is None or platform is None:
        raise FieldValidationError(problems)
    return NewIntegration(title=title, provider=provider, target_platform=platform)


def validate_status_value(body: dict[str, Any]) -> int:
    """``{"status": 0|1}`` (§3.4): 2 is worker-only, booleans are not integers."""
    if "status" not in body or body["status"] is None:
        raise FieldValidationError([FieldError("status", "Required")])
    status = body["status"]
    if status == 2 and is_int(status):
        raise FieldValidationError([FieldError("status", "2 (error) is set only by Qonversion; send 0 or 1")])
    if not is_int(status) or status not in (0, 1):
        raise FieldValidationError([FieldError("status", "Must be 0 (pause) or 1 (activate)")])
    return int(status)
