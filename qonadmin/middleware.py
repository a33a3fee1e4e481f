"""Middleware every app relies on: messages delivered on HTMX responses, and no caching
of anything a signed-in person sees."""

from collections.abc import Callable

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers


class NoStoreWhenSignedInMiddleware:
    """Responses for signed-in people are never stored by a browser or a proxy cache: they
    show a team's data, and the back button on a shared computer must not bring it back
    after signing out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class HtmxMessagesMiddleware:
    """Deliver Django messages on HTMX responses, which never re-render the layout."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.streaming:
            return response
        if 300 <= response.status_code < 400 or "HX-Redirect" in response or "HX-Location" in response:
            return response  # the next page shows them
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        storage = get_messages(request)
        if not storage:
            return response
        fragment = render_to_string("partials/messages.html", {"messages": storage}, request=request)
        response.content += f'<div id="messages" hx-swap-oob="true" aria-live="polite">{fragment}</div>'.encode()
        return response
