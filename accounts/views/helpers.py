"""Where to go after signing in or setting up two-factor sign-in."""

from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest) -> str:
    """The `next` of this request (form field or query) if it stays on this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def with_next(url: str, target: str) -> str:
    return f"{url}?{urlencode({'next': target})}" if target else url
