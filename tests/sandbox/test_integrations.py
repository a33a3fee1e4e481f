"""§3.1-3.3: list, create (with every validation case) and meta."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.catalog import TARGET_PLATFORMS

from .conftest import VALID_BODY, Api, assert_error, assert_no_details

INTEGRATION_FIELDS = [
    "object",
    "id",
    "url",
    "title",
    "integration",
    "target_platform",
    "active",
    "created_at",
    "updated_at",
    "last_delivery_at",
    "last_error_at",
    "last_error_message",
    "delivery_error_count",
]
MISSING: Any = object()  # marks a field to leave out of the body
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
EXPECTED_CATALOG = {
    "Analytics & Marketing": ["amplitude", "appmetrica", "facebook", "firebase", "mixpanel", "posthog", "segment"],
    "Attributions": [
        "searchads",
        "adjust",
        "appsflyer",
        "branch",
        "kochava",
        "singular",
        "split_metrics",
        "asapty",
        "tenjin",
    ],
    "Server": ["amazon_s3", "google_cloud_storage", "slack", "webhooks"],
    "Email & Push Notifications": ["braze", "clevertap", "mailchimp", "onesignal", "pushwoosh"],
}


def test_it_lists_an_empty_project(api: Api) -> None:
    response = api.call("GET", "/v4/integrations")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"object": "list", "url": "/v4/integrations", "data": [], "has_more": False}


def test_it_creates_a_paused_integration_with_all_thirteen_fields(api: Api) -> None:
    response = api.create(title="My Amplitude", integration="amplitude", target_platform="Android")
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == INTEGRATION_FIELDS
    assert re.fullmatch(r"[A-Za-z0-9]{8}", body["id"])
    assert body == {
        "object": "integration",
        "id": body["id"],
        "url": f"/v4/integrations/{body['id']}",
        "title": "My Amplitude",
        "integration": "Amplitude",  # display title, not the slug
        "target_platform": "Android",
        "active": 0,
        "created_at": "2026-02-26T16:03:09Z",
        "updated_at": "2026-02-26T16:03:09Z",
        "last_delivery_at": None,
        "last_error_at": None,
        "last_error_message": None,
        "delivery_error_count": 0,
    }
    assert api.integrations() == [body]


def test_it_returns_display_titles_for_other_providers(api: Api) -> None:
    assert api.created(integration="searchads", target_platform="iOS")["integration"] == "Apple Search Ads"
    assert api.created(integration="split_metrics", target_platform="iOS")["integration"] == "SplitMetrics"
    assert api.created(integration="amazon_s3", target_platform="Stripe")["integration"] == "Amazon S3"


def test_it_orders_the_list_by_created_at_then_id(api: Api) -> None:
    first_second = [api.created(title=f"a{n}")["id"] for n in range(4)]
    api.clock.advance(1)
    later = api.created(title="later")["id"]
    listed = [item["id"] for item in api.integrations()]
    assert listed == [*sorted(first_second), later]
    assert all(ISO_Z.match(item["created_at"]) for item in api.integrations())


def test_it_strips_the_title_and_accepts_255_characters(api: Api) -> None:
    assert api.created(title="  padded  ")["title"] == "padded"
    assert api.created(title="x" * 255)["title"] == "x" * 255


@pytest.mark.parametrize(
    ("overrides", "field", "message_part"),
    [
        ({"title": MISSING}, "title", "Required"),
        ({"title": None}, "title", "Required"),
        ({"title": ""}, "title", "empty"),
        ({"title": "   "}, "title", "empty"),
        ({"title": "x" * 256}, "title", "255"),
        ({"title": 42}, "title", "string"),
        ({"integration": MISSING}, "integration", "Required"),
        ({"integration": "unknown_provider"}, "integration", "unknown_provider"),
        ({"integration": "Amplitude"}, "integration", "Amplitude"),  # slugs are exact
        ({"integration": ["amplitude"]}, "integration", "string"),
        ({"target_platform": MISSING}, "target_platform", "Required"),
        ({"target_platform": None}, "target_platform", "Required"),
        ({"target_platform": "ios"}, "target_platform", "case-sensitive"),
        ({"target_platform": "Web"}, "target_platform", "iOS, Android, Stripe"),
        ({"target_platform": 1}, "target_platform", "string"),
        ({"integration": "searchads", "target_platform": "Android"}, "target_platform", "allowed: iOS"),
        ({"integration": "adjust", "target_platform": "Stripe"}, "target_platform", "allowed: iOS, Android"),
    ],
)
def test_it_rejects_invalid_create_fields(api: Api, overrides: dict[str, Any], field: str, message_part: str) -> None:
    body = {name: value for name, value in {**VALID_BODY, **overrides}.items() if value is not MISSING}
    response = api.call("POST", "/v4/integrations", json=body)
    error = assert_error(response, 422, "invalid_data")
    assert error["message"] == "Validation failed"
    assert len(error["details"]) == 1
    assert error["details"][0]["field"] == field
    assert message_part in error["details"][0]["message"]
    assert api.integrations() == []


def test_it_lists_every_failing_field(api: Api) -> None:
    response = api.call("POST", "/v4/integrations", json={"integration": "nope", "target_platform": "WinPhone"})
    error = assert_error(response, 422, "invalid_data")
    assert [d["field"] for d in error["details"]] == ["title", "integration", "target_platform"]
    assert all(set(d) == {"field", "message"} for d in error["details"])


def test_it_ignores_unknown_extra_fields(api: Api) -> None:
    assert api.create(credentials={"api_key": "secret"}).status_code == 201


@pytest.mark.parametrize("raw", ["{not json", "", "[]", '"text"', "null", "\xff"])
def test_it_rejects_a_body_that_is_not_a_json_object_with_400(api: Api, raw: str) -> None:
    response = api.call("POST", "/v4/integrations", data=raw.encode("latin-1"))
    assert_no_details(assert_error(response, 400, "invalid_request"))


def test_it_serves_the_provider_catalog(api: Api) -> None:
    response = api.call("GET", "/v4/integrations/meta")
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "integrations_meta"
    assert body["url"] == "/v4/integrations/meta"
    assert {c["title"]: [i["slug"] for i in c["items"]] for c in body["data"]} == EXPECTED_CATALOG
    items = {item["slug"]: item for c in body["data"] for item in c["items"]}
    assert len(items) == 25
    for item in items.values():
        assert set(item) == {"title", "slug", "allowedStores"}
        assert item["allowedStores"]
        assert set(item["allowedStores"]) <= set(TARGET_PLATFORMS)
    assert items["amplitude"]["title"] == "Amplitude"
    assert items["facebook"]["title"] == "Facebook Ads"
    assert items["searchads"]["allowedStores"] == ["iOS"]
    assert items["tenjin"]["allowedStores"] == ["iOS", "Android"]
    assert items["appmetrica"]["allowedStores"] == ["iOS", "Android"]
    assert items["webhooks"]["allowedStores"] == ["iOS", "Android", "Stripe"]


def test_it_accepts_exactly_the_allowed_stores_of_each_provider(api: Api) -> None:
    meta = api.call("GET", "/v4/integrations/meta").json()
    for item in (item for category in meta["data"] for item in category["items"]):
        for platform in TARGET_PLATFORMS:
            response = api.create(integration=item["slug"], target_platform=platform)
            expected = 201 if platform in item["allowedStores"] else 422
            assert response.status_code == expected, (item["slug"], platform)
            if expected == 201:
                assert response.json()["integration"] == item["title"]


def test_it_answers_unknown_paths_with_404_invalid_request(api: Api) -> None:
    for path in ["/v4/nothing", "/v4/integrations/", "/v4/integrations/abc/status/x", "/v3/integrations", "/"]:
        assert_no_details(assert_error(api.call("GET", path), 404, "invalid_request"))


def test_it_answers_a_wrong_method_with_405_and_allow(api: Api) -> None:
    response = api.call("PUT", "/v4/integrations", json={})
    assert_no_details(assert_error(response, 405, "invalid_request"))
    assert response.headers["Allow"] == "GET, POST"
    assert api.call("GET", "/v4/integrations/abcd1234/status").status_code == 405
    assert api.call("PATCH", "/v4/integrations/abcd1234").status_code == 405


def test_it_ignores_the_query_string(api: Api) -> None:
    api.created()
    response = api.call("GET", "/v4/integrations?limit=1&starting_after=x")
    assert len(response.json()["data"]) == 1


def test_it_serves_head_without_a_body(api: Api) -> None:
    response = api.call("HEAD", "/v4/integrations")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["Content-Length"]) > 0
