"""HTTP helpers every app may use: the client's address, and which URLs from a request
(a `next` parameter, the page an HTMX request came from) may be trusted.

Everything a request carries is untrusted input. These helpers never raise on
garbage: a value that is not a clean path on this site is treated as absent.
"""

from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

# Characters that have no place in a path we redirect to: controls (including
# CR/LF, header splitting), backslashes (some browsers read them as "/"), spaces.
_FORBIDDEN = frozenset(chr(c) for c in range(0x20)) | {"\x7f", "\\", " "}
MAX_PATH_LENGTH = 2000


class HtmxHttpRequest(HttpRequest):
    """HttpRequest as django-htmx's middleware leaves it, for type checking."""

    htmx: HtmxDetails


def signed_in_user(request: HttpRequest) -> User:
    """The user of a view behind @login_required."""
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - login_required runs first
        raise PermissionDenied
    return user


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: behind a proxy, the proxy must set it (e.g. gunicorn's
    # --forwarded-allow-ips), because a client can forge X-Forwarded-For.
    return request.META.get("REMOTE_ADDR") or None


def safe_path(target: object) -> str:
    """`target` if it is a path on this site ("/teams/acme/?q=x"), else "".

    Only a path is accepted: no scheme, no host, nothing that `redirect()` could read
    as a view name ("home", ";env;") or a browser as another site ("//evil", "/\\evil").
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > MAX_PATH_LENGTH:
        return ""
    if target.startswith("//") or any(char in _FORBIDDEN for char in target):
        return ""
    try:
        parts = urlsplit(target)
    except ValueError:
        return ""
    if parts.scheme or parts.netloc:
        return ""
    return target


def request_next(request: HttpRequest) -> str:
    """The `next` of this request (form field, then query string) if it is a safe path, else ""."""
    return safe_path(request.POST.get("next") or request.GET.get("next") or "")


def htmx_current_page(request: HttpRequest) -> str:
    """The path and query of the page an HTMX request came from (HX-Current-URL), if it is
    a page of this site; else "". The header is whatever the client sent."""
    htmx = getattr(request, "htmx", None)
    current = getattr(htmx, "current_url", None) if htmx else None
    if not isinstance(current, str) or not current:
        return ""
    try:
        parts = urlsplit(current)
    except ValueError:  # "http://[::1" and friends
        return ""
    if parts.netloc and parts.netloc != request.get_host():
        return ""
    return safe_path(parts.path + (f"?{parts.query}" if parts.query else ""))


def current_page_query(request: HttpRequest) -> str:
    """The query string of the page an HTMX request came from ("" when unknown)."""
    page = htmx_current_page(request)
    return page.partition("?")[2]


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where to go after a plain POST: the `next` field if it is a path on this site."""
    return safe_path(request.POST.get("next", "")) or fallback
