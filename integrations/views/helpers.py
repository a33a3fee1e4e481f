"""Small things every view needs."""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


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
