"""Minimal method + path routing shared by the /v4 and /_sandbox surfaces."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sandbox.app import Sandbox
from sandbox.errors import method_not_allowed, unknown_url
from sandbox.responses import Response


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without query string, not percent-decoded
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    project_key: str = ""  # set once /v4 authentication succeeded

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Handler = Callable[[Sandbox, Request, dict[str, str]], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, pattern: str, handler: Handler) -> Route:
    return Route(method=method, pattern=re.compile(pattern), handler=handler)


def dispatch(routes: list[Route], sandbox: Sandbox, request: Request) -> Response:
    """Run the first route matching method and path.

    A path matched by some route but not with this method -> 405 with ``Allow``;
    a path matched by none -> 404 invalid_request.  HEAD is served as GET (the
    server drops the body).  Trailing slashes are not normalised.
    """
    method = "GET" if request.method == "HEAD" else request.method
    allowed: list[str] = []
    for candidate in routes:
        match = candidate.pattern.fullmatch(request.path)
        if match is None:
            continue
        if candidate.method == method:
            return candidate.handler(sandbox, request, match.groupdict())
        allowed.append(candidate.method)
    if allowed:
        raise method_not_allowed(request.method, request.path, sorted(set(allowed)))
    raise unknown_url(request.method, request.path)
