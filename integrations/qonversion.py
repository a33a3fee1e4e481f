"""The one HTTP client for the Qonversion REST API v4 (integrations).

Only this module speaks HTTP upstream. It owns the session, the Bearer header, the
timeouts on every call, retries with backoff for 429/5xx/connection failures
(honouring Retry-After), and the Idempotency-Key on every create. Upstream errors
become typed exceptions; upstream payloads become typed objects. It never touches
the database, and never puts the secret key into a message, a log line or a repr.
"""

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
import urllib3
from django.views.decorators.debug import sensitive_variables

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.qonversion.io/v4"
PLATFORMS = ("iOS", "Android", "Stripe")
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Limits of the contract (and of the local mirror's columns).
MAX_ID_LENGTH = 256
MAX_TITLE_LENGTH = 255
MAX_PROVIDER_NAME_LENGTH = 100
MAX_PLATFORM_LENGTH = 10
MAX_RETRY_AFTER_SECONDS = 30.0


# ---- typed results -------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteIntegration:
    id: str
    title: str
    provider_name: str
    target_platform: str
    active: int
    created_at: datetime
    updated_at: datetime
    last_delivery_at: datetime | None
    last_error_at: datetime | None
    last_error_message: str | None
    delivery_error_count: int


@dataclass(frozen=True)
class Provider:
    slug: str
    title: str
    allowed_stores: tuple[str, ...] | None  # None: the catalog does not say


@dataclass(frozen=True)
class ProviderCategory:
    title: str
    providers: tuple[Provider, ...]


# ---- errors --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class QonversionError(Exception):
    """Any failure talking to Qonversion. `permanent` says whether retrying can help."""

    permanent = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        error_type: str = "",
        details: tuple[FieldError, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.error_type = error_type
        self.details = details
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, Any]:
        """A log/audit-safe summary (upstream text only, never request headers)."""
        return {
            "error": type(self).__name__,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "details": [{"field": d.field, "message": d.message} for d in self.details],
        }


class QonversionUnreachable(QonversionError):
    """No answer: connection refused, DNS, TLS, a timeout or a dropped connection.

    `maybe_delivered` says whether Qonversion may have received and acted on the
    request (a read timeout, a connection dropped after sending) or certainly not
    (the connection was never made)."""

    permanent = False

    def __init__(self, message: str, *, timed_out: bool = False, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.maybe_delivered = maybe_delivered


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the request cannot have reached Qonversion (refused, DNS, TLS)."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.exceptions.SSLError) or isinstance(
        reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError
    )


class QonversionAuthError(QonversionError):
    """401 (key missing, invalid or revoked) or 403 (key not allowed)."""


class QonversionNotFound(QonversionError):
    """404: the integration does not exist (or was deleted) upstream."""


class QonversionValidationError(QonversionError):
    """400/422: the request was refused; `details` says which fields and why."""


class QonversionConflict(QonversionError):
    """409: conflicts with the current state (e.g. an idempotency key reused)."""


class QonversionRateLimited(QonversionError):
    permanent = False


class QonversionServerError(QonversionError):
    permanent = False


class QonversionProtocolError(QonversionError):
    """Qonversion answered with something that is not the documented shape."""


def _error_class_for(status: int) -> type[QonversionError]:
    if status in (401, 403):
        return QonversionAuthError
    if status == 404:
        return QonversionNotFound
    if status in (400, 422):
        return QonversionValidationError
    if status == 409:
        return QonversionConflict
    if status == 429:
        return QonversionRateLimited
    if status >= 500:
        return QonversionServerError
    return QonversionError


# ---- parsing -------------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise QonversionProtocolError(f"expected an ISO 8601 time, got {type(value).__name__}")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise QonversionProtocolError(f"expected an ISO 8601 time, got {value[:40]!r}") from None


def _require(payload: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise QonversionProtocolError(f"integration field {name!r} is missing or of the wrong type")
    return value


def _require_time(payload: Mapping[str, Any], name: str) -> datetime:
    parsed = parse_timestamp(_require(payload, name, str))
    if parsed is None:  # pragma: no cover - _require already refused None
        raise QonversionProtocolError(f"integration field {name!r} is missing")
    return parsed


def parse_integration(payload: Any) -> RemoteIntegration:
    """Build a RemoteIntegration from the v4 object, ignoring fields we do not know."""
    if not isinstance(payload, Mapping):
        raise QonversionProtocolError("expected an integration object")
    created_at = _require_time(payload, "created_at")
    updated_at = _require_time(payload, "updated_at") if payload.get("updated_at") is not None else created_at
    active = _require(payload, "active", int)
    if active not in (0, 1, 2):
        raise QonversionProtocolError(f"integration field 'active' has unknown value {active!r}")
    message = payload.get("last_error_message")
    count = payload.get("delivery_error_count") or 0
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise QonversionProtocolError(f"integration field 'delivery_error_count' is not a count: {count!r}"[:120])
    integration_id = _require(payload, "id", str)
    if not _valid_id(integration_id):
        raise QonversionProtocolError("integration field 'id' is not a valid id")
    platform = _require(payload, "target_platform", str)
    if len(platform) > MAX_PLATFORM_LENGTH:
        raise QonversionProtocolError("integration field 'target_platform' is not a store name")
    return RemoteIntegration(
        id=integration_id,
        # Longer than the contract allows: keep what fits rather than fail the whole list.
        title=_require(payload, "title", str)[:MAX_TITLE_LENGTH],
        provider_name=_require(payload, "integration", str)[:MAX_PROVIDER_NAME_LENGTH],
        target_platform=platform,
        active=active,
        created_at=created_at,
        updated_at=updated_at,
        last_delivery_at=parse_timestamp(payload.get("last_delivery_at")),
        last_error_at=parse_timestamp(payload.get("last_error_at")),
        last_error_message=message if isinstance(message, str) else None,
        delivery_error_count=count,
    )


def parse_meta(payload: Any) -> tuple[ProviderCategory, ...]:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), list):
        raise QonversionProtocolError("expected an integrations_meta object with a data list")
    categories = []
    for category in payload["data"]:
        if not isinstance(category, Mapping):
            continue
        providers = []
        for item in category.get("items") or []:
            if not isinstance(item, Mapping) or not isinstance(item.get("slug"), str):
                continue
            stores = item.get("allowedStores")
            allowed = tuple(s for s in stores if s in PLATFORMS) if isinstance(stores, list) else None
            providers.append(
                Provider(slug=item["slug"], title=str(item.get("title") or item["slug"]), allowed_stores=allowed)
            )
        categories.append(ProviderCategory(title=str(category.get("title") or ""), providers=tuple(providers)))
    return tuple(categories)


def parse_error(response: requests.Response) -> QonversionError:
    """Map an error response onto a typed exception, keeping the v4 envelope's details."""
    error_class = _error_class_for(response.status_code)
    retry_after = _retry_after_seconds(response)
    try:
        body = response.json()
    except ValueError:
        body = None
    envelope = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(envelope, Mapping):
        return error_class(
            f"Qonversion answered HTTP {response.status_code} without an error description",
            status=response.status_code,
            retry_after=retry_after,
        )
    details = tuple(
        FieldError(field=str(item.get("field", "")), message=str(item.get("message", "")))
        for item in _list_or_empty(envelope.get("details"))
        if isinstance(item, Mapping)
    )
    return error_class(
        str(envelope.get("message") or f"HTTP {response.status_code}"),
        status=response.status_code,
        code=str(envelope.get("code") or ""),
        error_type=str(envelope.get("type") or ""),
        details=details,
        retry_after=retry_after,
    )


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


# ---- the client ----------------------------------------------------------------------


@dataclass
class RetryPolicy:
    max_retries: int = 2
    backoff_seconds: float = 0.5
    # No retry starts later than this after the first attempt, so a web request that
    # waits on Qonversion ends well inside the server's own timeout.
    deadline_seconds: float = 25.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int, error: QonversionError) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, MAX_RETRY_AFTER_SECONDS)
        # Exponential backoff with jitter so parallel callers do not retry in step.
        jitter = 0.5 + random.random() / 2  # noqa: S311 - spreads retries, not a secret
        return float(self.backoff_seconds * (2**attempt) * jitter)


class QonversionClient:
    @sensitive_variables("secret_key")
    def __init__(
        self,
        secret_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._secret_key = secret_key
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self._session = session or requests.Session()

    def __repr__(self) -> str:  # never show the key
        return f"<QonversionClient {self.base_url}>"

    # -- operations -----------------------------------------------------------------

    def list_integrations(self) -> list[RemoteIntegration]:
        body = self._call("GET", "/integrations")
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise QonversionProtocolError("expected a list object with a data array")
        return [parse_integration(item) for item in body["data"]]

    def get_meta(self) -> tuple[ProviderCategory, ...]:
        return parse_meta(self._call("GET", "/integrations/meta"))

    def create_integration(
        self, *, title: str, provider_slug: str, platform: str, idempotency_key: str
    ) -> RemoteIntegration:
        # The same key goes on every retry: Qonversion replays the first result
        # instead of creating a second integration.
        body = self._call(
            "POST",
            "/integrations",
            json={"title": title, "integration": provider_slug, "target_platform": platform},
            headers={"Idempotency-Key": idempotency_key},
        )
        return parse_integration(body)

    def set_status(self, integration_id: str, *, active: bool) -> RemoteIntegration:
        # Setting a state is idempotent, so retrying it is safe.
        body = self._call("POST", f"/integrations/{_path_id(integration_id)}/status", json={"status": int(active)})
        return parse_integration(body)

    def delete_integration(self, integration_id: str) -> None:
        self._call("DELETE", f"/integrations/{_path_id(integration_id)}")

    # -- transport ------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        attempt = 0
        started = time.monotonic()
        while True:
            try:
                return self._send_once(method, path, json=json, headers=headers)
            except QonversionError as error:
                if error.permanent or attempt >= self.retry.max_retries:
                    raise
                delay = self.retry.delay(attempt, error)
                if time.monotonic() - started + delay > self.retry.deadline_seconds:
                    raise
                logger.warning(
                    "qonversion %s %s failed (%s), retry %d/%d in %.1fs",
                    method,
                    path,
                    error.message,
                    attempt + 1,
                    self.retry.max_retries,
                    delay,
                )
                self.retry.sleep(delay)
                attempt += 1

    # Every variable, here and in every frame below (requests, urllib3, http.client),
    # is hidden from error reports: those frames hold the Authorization header under
    # many names (headers, value, values, one_value, msg…), and Django applies the
    # nearest decorator's list to all of them.
    @sensitive_variables()
    def _send_once(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> Any:
        all_headers = {"Authorization": f"Bearer {self._secret_key}", "Accept": "application/json"}
        all_headers.update(headers or {})
        started = time.monotonic()
        try:
            response = self._session.request(
                method, self.base_url + path, json=json, headers=all_headers, timeout=self.timeout
            )
        except requests.ConnectTimeout:
            raise QonversionUnreachable(
                f"Could not connect to Qonversion within {self.timeout[0]:g} s", timed_out=True
            ) from None
        except requests.Timeout:
            raise QonversionUnreachable(
                f"Qonversion did not answer within {self.timeout[1]:g} s", timed_out=True, maybe_delivered=True
            ) from None
        except requests.ConnectionError as error:
            if _never_connected(error):
                raise QonversionUnreachable("Could not connect to Qonversion") from None
            raise QonversionUnreachable(
                "Qonversion closed the connection before answering", maybe_delivered=True
            ) from None
        except requests.RequestException as error:
            raise QonversionUnreachable(f"Request to Qonversion failed: {type(error).__name__}") from None
        except UnicodeError:
            # http.client cannot encode the header (e.g. a pasted zero-width space in the
            # key); the exception's repr would quote the whole header, key included.
            raise QonversionError(
                "The secret key contains a character that cannot be sent to Qonversion; enter the key again"
            ) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("qonversion %s %s -> %d in %.0f ms", method, path, response.status_code, elapsed_ms)
        if response.status_code >= 400:
            raise parse_error(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise QonversionProtocolError(
                f"Qonversion answered HTTP {response.status_code} with a body that is not JSON",
                status=response.status_code,
            ) from None


def _list_or_empty(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _valid_id(integration_id: str) -> bool:
    """The contract's ids: ^[a-zA-Z0-9._-]+$, at most 256 characters."""
    return (
        0 < len(integration_id) <= MAX_ID_LENGTH
        and integration_id.isascii()
        and all(c.isalnum() or c in "._-" for c in integration_id)
    )


def _path_id(integration_id: str) -> str:
    # Refuse anything else rather than build a path from it.
    if not _valid_id(integration_id):
        raise QonversionNotFound("not a valid Qonversion integration id", status=404, code="not_found")
    return integration_id
