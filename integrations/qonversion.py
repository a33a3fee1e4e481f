"""The one HTTP client for the Qonversion REST API v4 (integrations).

Only this module speaks HTTP upstream. It owns the session, the Bearer header, the
timeouts on every call, retries with backoff for 429/5xx/connection failures
(honouring Retry-After), and the Idempotency-Key on every create. Upstream errors
become typed exceptions; upstream payloads become typed objects. It never touches
the database, and never puts the secret key into a message, a log line or a repr.
"""

import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
import urllib3
from django.views.decorators.debug import sensitive_variables

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.qonversion.io/v4"
PLATFORMS = ("iOS", "Android", "Stripe")
# Limits of the contract (and of the local mirror's columns).
MAX_ID_LENGTH = 256
MAX_TITLE_LENGTH = 255
MAX_PROVIDER_NAME_LENGTH = 100
MAX_PLATFORM_LENGTH = 10
MAX_RETRY_AFTER_SECONDS = 30.0
# The contract's `active`: 0 paused, 1 active, 2 error (set only by Qonversion's delivery worker).
WIRE_STATUS = {0: "paused", 1: "active", 2: "error"}
# A retry is only worth starting with at least this much of the deadline left.
MIN_ATTEMPT_SECONDS = 0.5


# ---- typed results -------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteIntegration:
    id: str
    title: str
    provider_name: str
    target_platform: str
    status: str  # "paused", "active" or "error" (WIRE_STATUS); the wire's number stays here
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

    @property
    def outcome_unknown(self) -> bool:
        """Whether Qonversion may have acted on the request although this error came back:
        a 5xx (it may have committed first), or an answer we could not read. False only
        when it certainly did not: a 4xx refusal, or a request that was never sent."""
        return self.status is not None and not 400 <= self.status < 500

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

    @property
    def outcome_unknown(self) -> bool:
        return self.maybe_delivered


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

    @property
    def outcome_unknown(self) -> bool:
        # An unreadable answer (even to a 2xx) says nothing certain about what happened.
        return self.status is None or not 400 <= self.status < 500


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

# What the mirror's columns hold: a PositiveIntegerField, a provider slug.
MAX_COUNT = 2_147_483_647
MAX_SLUG_LENGTH = 64
# Upstream error text is shown, logged and audited: a sentence, not a page.
MAX_ERROR_TEXT_LENGTH = 500
# Lone surrogates (JSON can carry them as \ud800 escapes) cannot be encoded as UTF-8,
# and NUL cannot be stored in PostgreSQL text.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_RETRY_AFTER_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")


def _storable(text: str) -> str:
    """Upstream text that a page, a log line, the mirror and the audit log can all hold."""
    return _UNSTORABLE.sub("\ufffd", text)


def _scalar_text(value: Any, limit: int) -> str:
    """A string or number from an error envelope as text; anything else is no text."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        return ""
    return _storable(text[:limit])


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time as an aware datetime in UTC (no offset given: UTC is assumed)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise QonversionProtocolError(f"expected an ISO 8601 time, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or one outside years 1..9999 in UTC
        raise QonversionProtocolError(f"expected an ISO 8601 time, got {value[:40]!r}") from None


def _require(payload: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise QonversionProtocolError(f"integration field {name!r} is missing or of the wrong type")
    return _storable(value) if isinstance(value, str) else value


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
    if active not in WIRE_STATUS:
        raise QonversionProtocolError(f"integration field 'active' has unknown value {active!r}")
    message = payload.get("last_error_message")
    count = payload.get("delivery_error_count") or 0
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise QonversionProtocolError(f"integration field 'delivery_error_count' is not a count: {count!r}"[:120])
    count = min(count, MAX_COUNT)  # more failures than the mirror counts: keep the most it holds
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
        status=WIRE_STATUS[active],
        created_at=created_at,
        updated_at=updated_at,
        last_delivery_at=parse_timestamp(payload.get("last_delivery_at")),
        last_error_at=parse_timestamp(payload.get("last_error_at")),
        last_error_message=_storable(message) if isinstance(message, str) else None,
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
        for item in _list_or_empty(category.get("items")):
            slug = item.get("slug") if isinstance(item, Mapping) else None
            # A provider we could not send back or store is left out of the form.
            if not isinstance(slug, str) or not 0 < len(slug) <= MAX_SLUG_LENGTH or _UNSTORABLE.search(slug):
                continue
            stores = item.get("allowedStores")
            allowed = tuple(s for s in stores if s in PLATFORMS) if isinstance(stores, list) else None
            title = item.get("title")
            providers.append(
                Provider(
                    slug=slug,
                    title=_storable(title) if isinstance(title, str) and title else slug,
                    allowed_stores=allowed,
                )
            )
        title = category.get("title")
        categories.append(
            ProviderCategory(title=_storable(title) if isinstance(title, str) else "", providers=tuple(providers))
        )
    return tuple(categories)


def parse_error(response: requests.Response) -> QonversionError:
    """Map an error response onto a typed exception, keeping the v4 envelope's details."""
    error_class = _error_class_for(response.status_code)
    retry_after = _retry_after_seconds(response)
    try:
        body = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to decode
        body = None
    envelope = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(envelope, Mapping):
        return error_class(
            f"Qonversion answered HTTP {response.status_code} without an error description",
            status=response.status_code,
            retry_after=retry_after,
        )
    details = tuple(
        FieldError(
            field=_scalar_text(item.get("field"), MAX_ERROR_TEXT_LENGTH),
            message=_scalar_text(item.get("message"), MAX_ERROR_TEXT_LENGTH),
        )
        for item in _list_or_empty(envelope.get("details"))
        if isinstance(item, Mapping)
    )
    return error_class(
        _scalar_text(envelope.get("message"), MAX_ERROR_TEXT_LENGTH) or f"HTTP {response.status_code}",
        status=response.status_code,
        code=_scalar_text(envelope.get("code"), MAX_ERROR_TEXT_LENGTH),
        error_type=_scalar_text(envelope.get("type"), MAX_ERROR_TEXT_LENGTH),
        details=details,
        retry_after=retry_after,
    )


def _retry_after_seconds(response: requests.Response) -> float | None:
    """Whole (or decimal) seconds; anything else, an HTTP-date included, means our own backoff."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not _RETRY_AFTER_SECONDS.fullmatch(value):  # also refuses nan, inf, 1e309, -5, 1_0
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) else None  # 400 nines: a float overflow


# ---- the client ----------------------------------------------------------------------


@dataclass
class RetryPolicy:
    max_retries: int = 2
    backoff_seconds: float = 0.5
    # The most one call (all its attempts, waits and timeouts together) may take: every
    # attempt's connect and read timeouts are cut to what is left of it, and no retry
    # starts that could not get MIN_ATTEMPT_SECONDS. This is the bound on how long a
    # page or an action ever waits on Qonversion.
    deadline_seconds: float = 10.0
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
        integrations = [parse_integration(item) for item in body["data"]]
        if len({integration.id for integration in integrations}) != len(integrations):
            # The contract's ids are unique; a list that repeats one cannot be mirrored as it is.
            raise QonversionProtocolError("the list names the same integration id twice")
        return integrations

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
        deadline = time.monotonic() + self.retry.deadline_seconds
        while True:
            remaining = deadline - time.monotonic()
            timeout = (min(self.timeout[0], remaining), min(self.timeout[1], remaining))
            try:
                return self._send_once(method, path, json=json, headers=headers, timeout=timeout)
            except QonversionError as error:
                if error.permanent or attempt >= self.retry.max_retries:
                    raise
                delay = self.retry.delay(attempt, error)
                if time.monotonic() + delay + MIN_ATTEMPT_SECONDS > deadline:
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
        timeout: tuple[float, float],
    ) -> Any:
        all_headers = {"Authorization": f"Bearer {self._secret_key}", "Accept": "application/json"}
        all_headers.update(headers or {})
        started = time.monotonic()
        try:
            # Qonversion does not redirect; following one would send the key elsewhere, and
            # a 3xx is reported as the protocol error it is.
            response = self._session.request(
                method, self.base_url + path, json=json, headers=all_headers, timeout=timeout, allow_redirects=False
            )
        except requests.ConnectTimeout:
            raise QonversionUnreachable(
                f"Could not connect to Qonversion within {timeout[0]:.3g} s", timed_out=True
            ) from None
        except requests.Timeout:
            raise QonversionUnreachable(
                f"Qonversion did not answer within {timeout[1]:.3g} s", timed_out=True, maybe_delivered=True
            ) from None
        except requests.ConnectionError as error:
            if _never_connected(error):
                raise QonversionUnreachable("Could not connect to Qonversion") from None
            raise QonversionUnreachable(
                "Qonversion closed the connection before answering", maybe_delivered=True
            ) from None
        except (requests.exceptions.ContentDecodingError, requests.exceptions.ChunkedEncodingError):
            # An answer came but could not be read: Qonversion may well have acted on it.
            raise QonversionUnreachable("Qonversion's answer could not be read", maybe_delivered=True) from None
        except requests.RequestException as error:
            raise QonversionUnreachable(f"Request to Qonversion failed: {type(error).__name__}") from None
        except UnicodeError:
            # http.client cannot encode the header (e.g. a pasted zero-width space in the
            # key); the exception's repr would quote the whole header, key included.
            raise QonversionError(
                "The secret key contains a character that cannot be sent to Qonversion; enter the key again"
            ) from None
        except ValueError:
            # requests reads a redirect's Location even when it does not follow it; a
            # garbage one ("http://[::1") raises here, after Qonversion answered.
            raise QonversionProtocolError("Qonversion answered with a redirect that is not a valid address") from None
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("qonversion %s %s -> %d in %.0f ms", method, path, response.status_code, elapsed_ms)
        if response.status_code >= 400:
            raise parse_error(response)
        if not 200 <= response.status_code < 300:  # 1xx/3xx as a final answer: not a result
            raise QonversionProtocolError(
                f"Qonversion answered HTTP {response.status_code} instead of a result", status=response.status_code
            )
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deep to decode
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
