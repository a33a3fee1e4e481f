"""§2 authentication: 401 control_unauthorized / 403 control_forbidden, per-key data."""

from __future__ import annotations

import logging

import pytest

from sandbox.auth import mask_key

from .conftest import KEY, OTHER_KEY, Api, assert_error, assert_no_details

V4_CALLS = [
    ("GET", "/v4/integrations"),
    ("POST", "/v4/integrations"),
    ("GET", "/v4/integrations/meta"),
    ("POST", "/v4/integrations/abcd1234/status"),
    ("DELETE", "/v4/integrations/abcd1234"),
]


@pytest.mark.parametrize(("method", "path"), V4_CALLS)
def test_it_rejects_a_missing_authorization_header_on_every_endpoint(api: Api, method: str, path: str) -> None:
    error = assert_error(api.call(method, path, key=None), 401, "control_unauthorized")
    assert_no_details(error)


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        f"Basic {KEY}",
        KEY,  # no scheme
        "Bearer sk_ab",  # too short after the prefix
        "Bearer sk-live-1234",  # wrong separator
        "Bearer live_sk_1234abcd",  # unknown prefix
        "Bearer test_sk_12 34",  # space inside
        "Bearer test_sk_12$4abcd",  # character outside [A-Za-z0-9_]
    ],
)
def test_it_rejects_malformed_credentials_with_401(api: Api, authorization: str) -> None:
    response = api.call("GET", "/v4/integrations", key=None, headers={"Authorization": authorization})
    assert_no_details(assert_error(response, 401, "control_unauthorized"))


def test_it_rejects_a_revoked_key_with_401(api: Api) -> None:
    response = api.call("GET", "/v4/integrations", key="test_sk_revoked_1234")
    error = assert_error(response, 401, "control_unauthorized")
    assert_no_details(error)
    assert "revoked" in error["message"]


@pytest.mark.parametrize("public_key", ["pk_live1234abcd", "test_pk_abcd1234"])
def test_it_rejects_public_keys_with_403(api: Api, public_key: str) -> None:
    error = assert_error(api.call("GET", "/v4/integrations", key=public_key), 403, "control_forbidden")
    assert_no_details(error)
    assert "secret key" in error["message"]


def test_it_accepts_the_bearer_scheme_case_insensitively(api: Api) -> None:
    response = api.call("GET", "/v4/integrations", key=None, headers={"Authorization": f"bearer {KEY}"})
    assert response.status_code == 200


def test_it_keeps_every_key_a_separate_project(api: Api) -> None:
    api.created(key="test_sk_same1234")
    assert len(api.integrations("test_sk_same1234")) == 1
    assert api.integrations("sk_same1234") == []  # production twin of the same suffix
    assert api.integrations(OTHER_KEY) == []
    created = api.created(key=OTHER_KEY)
    # A record of another project is invisible to status/delete as well.
    assert_error(api.set_status(created["id"], {"status": 1}), 404, "not_found", error_type="resource")
    assert_error(api.delete(created["id"]), 404, "not_found", error_type="resource")


def test_it_checks_auth_before_routing(api: Api) -> None:
    assert_error(api.call("GET", "/v4/unknown", key=None), 401, "control_unauthorized")
    assert_error(api.call("GET", "/v4/unknown"), 404, "invalid_request")


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("test_sk_alpha1234wxyz", "test_sk_…wxyz"),
        ("sk_bravo5678abcd", "sk_…abcd"),
        ("pk_live1234abcd", "pk_…abcd"),
        ("sk_abcd", "sk_…"),  # too short to show a tail without revealing the key
        ("whatever-token-1234", "…1234"),
    ],
)
def test_it_masks_keys(key: str, masked: str) -> None:
    assert mask_key(key) == masked


def test_it_never_logs_a_full_key(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sandbox"):
        api.integrations(KEY)
        api.call("GET", "/v4/integrations", key="test_sk_revoked_9876")
    assert KEY not in caplog.text
    assert "test_sk_revoked_9876" not in caplog.text
    assert "test_sk_…wxyz" in caplog.text
    hints = [entry["key_hint"] for entry in api.request_log()]
    assert hints == ["test_sk_…wxyz", "test_sk_…9876"]
