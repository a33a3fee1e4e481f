"""Small things every view needs."""

from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from integrations.filters import IntegrationFilters


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


def current_filters(request: HtmxHttpRequest) -> IntegrationFilters:
    """The filters the user is looking at: the page's URL for HTMX requests (a row
    action's own URL carries none), else this request's query string."""
    if request.htmx and request.htmx.current_url:
        query = urlsplit(request.htmx.current_url).query
        return IntegrationFilters.from_query(QueryDict(query))
    return IntegrationFilters.from_query(request.GET)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where to go after a plain POST: the `next` field if it stays on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
