"""The Qonversion client against any answer at all: whatever status, body and headers
come back, every operation ends in its typed result or a QonversionError, never in
another exception (which would be a 500 page for the person at the screen).

Answers are served by a transport adapter mounted on a real requests.Session, so
requests' own response handling (encodings, content decoding, redirects) runs as in
production; only the network is replaced.
"""

import io
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import urllib3
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter

from integrations.qonversion import (
    MAX_COUNT,
    MAX_PROVIDER_NAME_LENGTH,
    MAX_TITLE_LENGTH,
    Provider,
    ProviderCategory,
    QonversionClient,
    QonversionError,
    QonversionProtocolError,
    RemoteIntegration,
    RetryPolicy,
)

BASE_URL = "https://qonversion.invalid/v4"
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,  # no example database in the work tree; runs are reproducible by seed
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Answer = tuple[int, bytes, list[tuple[str, str]]]


class CannedAnswers(HTTPAdapter):
    """Answers every request with the same status, body and headers."""

    def __init__(self, answer: Answer) -> None:
        super().__init__()
        self.answer = answer
        self.calls = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls += 1
        status, body, headers = self.answer
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(body),
            headers=headers,
            status=status,
            reason="Canned",
            preload_content=False,
            decode_content=True,
        )
        return self.build_response(request, raw)


def client_answering(answer: Answer) -> QonversionClient:
    session = requests.Session()
    session.mount("https://", CannedAnswers(answer))
    return QonversionClient(
        "sk_fuzz_key_1234", base_url=BASE_URL, retry=RetryPolicy(sleep=lambda seconds: None), session=session
    )


OPERATIONS: dict[str, Callable[[QonversionClient], object]] = {
    "list_integrations": lambda client: client.list_integrations(),
    "get_meta": lambda client: client.get_meta(),
    "create_integration": lambda client: client.create_integration(
        title="Amplitude iOS", provider_slug="amplitude", platform="iOS", idempotency_key="fuzz-1"
    ),
    "set_status": lambda client: client.set_status("gNl6hyM6", active=True),
    "delete_integration": lambda client: client.delete_integration("gNl6hyM6"),
}


# ---- what a result may look like --------------------------------------------------------


def assert_storable_text(value: object) -> None:
    """Text the mirror, the audit log (JSON) and a UTF-8 page can all hold."""
    assert isinstance(value, str)
    value.encode("utf-8")  # no lone surrogates
    assert "\x00" not in value  # PostgreSQL text cannot hold NUL


def assert_utc_time(value: object) -> None:
    assert isinstance(value, datetime)
    assert value.utcoffset() is not None
    value.astimezone(UTC)  # representable in UTC (the mirror stores UTC)


def assert_integration(value: object) -> None:
    assert isinstance(value, RemoteIntegration)
    for text in (value.id, value.title, value.provider_name, value.target_platform):
        assert_storable_text(text)
    assert 0 < len(value.id) <= 256
    assert len(value.title) <= MAX_TITLE_LENGTH
    assert len(value.provider_name) <= MAX_PROVIDER_NAME_LENGTH
    assert len(value.target_platform) <= 10
    assert value.status in ("paused", "active", "error")
    assert type(value.delivery_error_count) is int
    assert 0 <= value.delivery_error_count <= MAX_COUNT
    assert_utc_time(value.created_at)
    assert_utc_time(value.updated_at)
    for optional in (value.last_delivery_at, value.last_error_at):
        if optional is not None:
            assert_utc_time(optional)
    if value.last_error_message is not None:
        assert_storable_text(value.last_error_message)


def assert_meta(value: object) -> None:
    assert isinstance(value, tuple)
    for category in value:
        assert isinstance(category, ProviderCategory)
        assert_storable_text(category.title)
        for provider in category.providers:
            assert isinstance(provider, Provider)
            assert_storable_text(provider.slug)
            assert_storable_text(provider.title)
            assert provider.allowed_stores is None or set(provider.allowed_stores) <= {"iOS", "Android", "Stripe"}


def assert_error(error: QonversionError) -> None:
    assert_storable_text(error.message)
    assert error.message
    assert_storable_text(error.code)
    assert_storable_text(error.error_type)
    for detail in error.details:
        assert_storable_text(detail.field)
        assert_storable_text(detail.message)
    if error.retry_after is not None:
        assert math.isfinite(error.retry_after)
        assert error.retry_after >= 0
    json.dumps(error.as_dict())  # what the audit log stores


def assert_integration_list(value: object) -> None:
    assert isinstance(value, list)
    for item in value:
        assert_integration(item)


RESULT_CHECKS: dict[str, Callable[[object], None]] = {
    "list_integrations": assert_integration_list,
    "get_meta": assert_meta,
    "create_integration": assert_integration,
    "set_status": assert_integration,
    "delete_integration": lambda value: None if value is None else pytest.fail(f"delete returned {value!r}"),
}


def assert_typed_outcome(operation: str, answer: Answer) -> None:
    status = answer[0]
    try:
        result = OPERATIONS[operation](client_answering(answer))
    except QonversionError as error:
        event(type(error).__name__)  # shown by --hypothesis-show-statistics
        assert_error(error)
        return
    event("typed result")
    # Anything else escaping the client fails the test with its own traceback.
    assert 200 <= status < 300, f"HTTP {status} was taken as success"
    RESULT_CHECKS[operation](result)


# ---- strategies ----------------------------------------------------------------------------

# Text with everything JSON can carry, lone surrogates (as \\ud800 escapes) and NUL included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40) | st.sampled_from(
    ["", "\x00", "\ud800", "a\udfffb", "<script>alert(1)</script>", "x" * 300]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
any_json = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)
timestamps = st.sampled_from(
    [
        "2026-02-26T16:03:09Z",
        "2026-02-26T16:03:09+05:30",
        "2026-02-26T16:03:09",  # no offset
        "2026-02-26",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "2026-02-30T00:00:00Z",
        "2026-W09-4",
        "yesterday",
        "",
    ]
)

VALID_INTEGRATION: dict[str, Any] = {
    "object": "integration",
    "id": "gNl6hyM6",
    "url": "/v4/integrations/gNl6hyM6",
    "title": "Amplitude iOS",
    "integration": "Amplitude",
    "target_platform": "iOS",
    "active": 1,
    "created_at": "2026-02-26T16:03:09Z",
    "updated_at": "2026-02-26T16:03:09Z",
    "last_delivery_at": None,
    "last_error_at": "2026-02-27T10:00:00Z",
    "last_error_message": "401 from endpoint: invalid API key",
    "delivery_error_count": 3,
}
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": any_text | st.sampled_from(["a", "x" * 256, "x" * 257, "../etc", "a b", "ü"]),
    "title": any_text,
    "integration": any_text,
    "target_platform": any_text | st.sampled_from(["iOS", "Android", "Stripe", "PlayStation"]),
    "active": st.sampled_from([0, 1, 2, 3, -1, True, "1", "yes", 1.0, None]),
    "created_at": timestamps,
    "updated_at": timestamps,
    "last_delivery_at": timestamps,
    "last_error_at": timestamps,
    "last_error_message": any_text,
    "delivery_error_count": st.sampled_from([0, 5, -1, 2**31, 2**63, 10**30, 1.5, "7", True, None]),
}
MISSING = object()


@st.composite
def almost_integrations(draw: st.DrawFn) -> dict[str, Any]:
    """A valid Integration with some fields replaced by arbitrary JSON, odd values or nothing."""
    payload = dict(VALID_INTEGRATION)
    for name in draw(st.sets(st.sampled_from(sorted(VALID_INTEGRATION)), max_size=3)):
        value = draw(FIELD_VALUES.get(name, any_json) | any_json | st.just(MISSING))
        if value is MISSING:
            del payload[name]
        else:
            payload[name] = value
    return payload


def list_object(items: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(items, max_size=3).map(
        lambda data: {"object": "list", "url": "/v4/integrations", "data": data, "has_more": False}
    )


meta_items = st.fixed_dictionaries(
    {},
    optional={
        "slug": any_text | any_json,
        "title": any_text | any_json,
        "allowedStores": st.lists(any_text | st.sampled_from(["iOS", "Android", "Stripe"]), max_size=3) | any_json,
    },
)
meta_objects = st.fixed_dictionaries(
    {"object": st.just("integrations_meta")},
    optional={
        "data": st.lists(
            st.fixed_dictionaries(
                {}, optional={"title": any_text | any_json, "items": st.lists(meta_items, max_size=3) | any_json}
            )
            | any_json,
            max_size=3,
        )
        | any_json
    },
)
error_envelopes = st.fixed_dictionaries(
    {},
    optional={
        "type": any_json,
        "code": any_json,
        "message": any_json,
        "details": st.lists(st.fixed_dictionaries({}, optional={"field": any_json, "message": any_json}), max_size=3)
        | any_json,
    },
).map(lambda error: {"error": error})

payloads = any_json | almost_integrations() | list_object(almost_integrations() | any_json) | meta_objects
payloads |= error_envelopes


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()  # ASCII escapes: surrogates and NUL travel as \\uXXXX


bodies = st.one_of(
    st.binary(max_size=200),
    payloads.map(encode),
    payloads.map(encode).flatmap(lambda whole: st.integers(0, len(whole)).map(lambda cut: whole[:cut])),
    payloads.map(lambda payload: json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"null",
            b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
            b"[" * 2000,  # deeper than the JSON decoder recurses
            b'{"error":' * 2000,
            b"1" * 5000,  # more digits than Python converts
            b"\xef\xbb\xbf{}",  # a byte-order mark
            b"\xff\xfe{\x00}\x00",  # UTF-16
        ]
    ),
)

header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=30)
retry_after_values = header_text | st.sampled_from(
    [
        "nan",
        "-nan",
        "inf",
        "-inf",
        "Infinity",
        "1e309",
        "9" * 400,
        "-5",
        " 7 ",
        "1_0",
        "0x10",
        "1.5",
        "",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "99999999999999999999",
    ]
)
content_types = header_text | st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=bogus-42",
        "application/json; charset=utf-16",
        "text/html",
        "text/plain; charset=latin-1",
        "application/octet-stream",
        ";;;",
    ]
)
readable_headers = {"Retry-After": retry_after_values, "Content-Type": content_types}
content_encodings = st.sampled_from(["gzip", "deflate", "identity", "br", "zstd", "gzip, gzip", "bogus"])
headers = st.fixed_dictionaries({}, optional={**readable_headers, "Content-Encoding": content_encodings}).map(
    lambda found: list(found.items())
)

# Any status, with the success ones (where parsing happens) drawn more often.
statuses = st.integers(100, 599) | st.sampled_from([200, 201, 204])
answers = st.tuples(statuses, bodies, headers)


# ---- properties ------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@FUZZ
@given(answer=answers)
def test_any_answer_ends_in_a_typed_result_or_a_qonversion_error(operation: str, answer: Answer) -> None:
    assert_typed_outcome(operation, answer)


@FUZZ
@given(status=st.sampled_from([200, 201]), payload=almost_integrations())
def test_an_almost_right_integration_is_parsed_or_refused(status: int, payload: dict[str, Any]) -> None:
    for operation in ("create_integration", "set_status", "list_integrations"):
        body = {"object": "list", "data": [payload]} if operation == "list_integrations" else payload
        assert_typed_outcome(operation, (status, encode(body), [("Content-Type", "application/json")]))


@FUZZ
@given(
    status=st.sampled_from([400, 401, 403, 404, 409, 418, 422, 429, 500, 502, 503]),
    envelope=error_envelopes,
    found=st.fixed_dictionaries({}, optional=readable_headers),
)
def test_any_error_envelope_becomes_a_qonversion_error(
    status: int, envelope: dict[str, Any], found: dict[str, str]
) -> None:
    with pytest.raises(QonversionError) as caught:
        OPERATIONS["list_integrations"](client_answering((status, encode(envelope), list(found.items()))))
    assert caught.value.status == status
    assert_error(caught.value)


# ---- known edges, spelled out --------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "-nan", "inf", "Infinity", "1e309", "9" * 400, "-5", "1_0", "0x10"])
def test_a_retry_after_that_is_not_a_number_of_seconds_is_ignored(value: str) -> None:
    with pytest.raises(QonversionError) as caught:
        client_answering((503, b"", [("Retry-After", value)])).list_integrations()
    assert caught.value.retry_after is None


def test_a_retry_after_in_whole_seconds_is_kept() -> None:
    with pytest.raises(QonversionError) as caught:
        client_answering((429, b"", [("Retry-After", " 7 ")])).list_integrations()
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("status", [100, 101, 103, 199, 300, 301, 302, 304, 307, 308, 399])
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_an_informational_or_redirect_status_is_not_success(operation: str, status: int) -> None:
    body = b"" if status < 200 or status == 304 else encode(VALID_INTEGRATION)  # these never have a body
    with pytest.raises(QonversionProtocolError) as caught:
        OPERATIONS[operation](client_answering((status, body, [])))
    assert caught.value.status == status


@pytest.mark.parametrize("operation", ["create_integration", "set_status"])
def test_a_null_body_is_not_an_integration(operation: str) -> None:
    with pytest.raises(QonversionProtocolError):
        OPERATIONS[operation](client_answering((200, b"null", [])))


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"error":' * 100_000])
@pytest.mark.parametrize("status", [200, 500])
def test_json_nested_too_deep_to_decode_is_refused(body: bytes, status: int) -> None:
    with pytest.raises(QonversionError) as caught:
        client_answering((status, body, [])).list_integrations()
    assert caught.value.status == status


def test_meta_items_that_are_not_a_list_are_skipped() -> None:
    body = {"data": [{"title": "Odd", "items": 5}, {"title": "Fine", "items": [{"slug": "slack"}]}]}
    categories = client_answering((200, encode(body), [])).get_meta()
    assert [(c.title, [p.slug for p in c.providers]) for c in categories] == [("Odd", []), ("Fine", ["slack"])]


def test_upstream_text_is_made_storable() -> None:
    payload = {**VALID_INTEGRATION, "title": "a\ud800b\x00c", "last_error_message": "bad\udfff\x00"}
    parsed = client_answering((200, encode(payload), [])).create_integration(
        title="t", provider_slug="s", platform="iOS", idempotency_key="k"
    )
    assert parsed.title == "a\ufffdb\ufffdc"
    assert parsed.last_error_message == "bad\ufffd\ufffd"


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-02-26T16:03:09", "2026-02-26"]
)
def test_times_come_back_in_utc_or_are_refused(value: str) -> None:
    payload = {**VALID_INTEGRATION, "created_at": value}
    try:
        parsed = client_answering((200, encode(payload), [])).set_status("gNl6hyM6", active=True)
    except QonversionProtocolError:
        return
    assert parsed.created_at.utcoffset() is not None
    assert parsed.created_at == parsed.created_at.astimezone(UTC)


def test_a_huge_delivery_error_count_is_capped_to_what_the_mirror_holds() -> None:
    payload = {**VALID_INTEGRATION, "delivery_error_count": 10**30}
    parsed = client_answering((200, encode(payload), [])).set_status("gNl6hyM6", active=True)
    assert parsed.delivery_error_count == MAX_COUNT


@pytest.mark.parametrize("operation", ["list_integrations", "delete_integration"])
def test_a_redirect_to_a_garbage_location_is_a_qonversion_error(operation: str) -> None:
    with pytest.raises(QonversionError):
        OPERATIONS[operation](client_answering((302, b"", [("Location", "http://[::1")])))
