"""Verbs the sandbox has no route for still get the v4 error envelope, never an HTML page."""

from __future__ import annotations

import json
import socket

import pytest

from tests.sandbox.conftest import Api, assert_error, assert_no_details


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_it_answers_an_unknown_method_with_405_and_the_envelope(api: Api, method: str) -> None:
    response = api.call(method, "/v4/integrations")
    assert_no_details(assert_error(response, 405, "invalid_request"))
    assert response.headers["Allow"] == "GET, POST"
    control = api.control(method, "/reset")
    assert_error(control, 405, "invalid_request")
    assert control.headers["Allow"] == "POST"


def test_an_unknown_method_still_needs_a_key_on_v4(api: Api) -> None:
    assert_error(api.call("TRACE", "/v4/integrations", key=None), 401, "control_unauthorized")


def test_an_unknown_method_on_an_unknown_path_is_404(api: Api) -> None:
    assert_error(api.call("TRACE", "/elsewhere"), 404, "invalid_request")


def test_a_malformed_request_line_gets_the_envelope_too(api: Api) -> None:
    host, port = api.root.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(b"GET /v4/integrations HTTP/1.1 extra\r\nHost: x\r\n\r\n")
        raw = b""
        while chunk := connection.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Type: application/json" in head
    assert json.loads(body)["error"]["code"] == "invalid_request"
