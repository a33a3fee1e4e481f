"""§9 rate limiting: off by default, 429 rate_limit_exceeded + Retry-After when on."""

from __future__ import annotations

from .conftest import KEY, OTHER_KEY, Api, StartSandbox, assert_error, assert_no_details


def test_it_does_not_limit_by_default(api: Api) -> None:
    assert all(api.call("GET", "/v4/integrations").status_code == 200 for _ in range(30))


def test_it_answers_429_with_retry_after_once_over_the_limit(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(rate_limit=3, rate_window=10)
    for _ in range(3):
        assert api.call("GET", "/v4/integrations").status_code == 200
    api.clock.advance(4)
    response = api.call("GET", "/v4/integrations/meta")
    assert_no_details(assert_error(response, 429, "rate_limit_exceeded"))
    assert response.headers["Retry-After"] == "6"
    assert api.call("GET", "/v4/integrations", key=OTHER_KEY).status_code == 200  # per key
    api.clock.advance(6)
    assert api.call("GET", "/v4/integrations", key=KEY).status_code == 200


def test_it_can_leave_out_retry_after(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(rate_limit=1, retry_after_header=False)
    api.call("GET", "/v4/integrations")
    response = api.call("GET", "/v4/integrations")
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_it_does_not_count_unauthenticated_requests(start_sandbox: StartSandbox) -> None:
    api = start_sandbox(rate_limit=1)
    for _ in range(3):
        assert api.call("GET", "/v4/integrations", key=None).status_code == 401
    assert api.call("GET", "/v4/integrations").status_code == 200
