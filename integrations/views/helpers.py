"""Small things every view needs."""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, QueryDict
from django_htmx.middleware import HtmxDetails

from integrations.filters import IntegrationFilters
from qonadmin.http import client_ip, current_page_query, safe_path

__all__ = ["HtmxHttpRequest", "client_ip", "current_filters", "safe_next", "signed_in_user"]


class HtmxHttpRequest(HttpRequest):
    """HttpRequest as django-htmx's middleware leaves it, for type checking."""

    htmx: HtmxDetails


def signed_in_user(request: HttpRequest) -> User:
    """The user of a view behind @login_required."""
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - login_required runs first
        raise PermissionDenied
    return user


def current_filters(request: HtmxHttpRequest) -> IntegrationFilters:
    """The filters the user is looking at: the page's URL for HTMX requests (a row
    action's own URL carries none), else this request's query string."""
    if request.htmx:
        # A header that is not a URL of this site counts as "no filters", never an error.
        return IntegrationFilters.from_query(QueryDict(current_page_query(request)))
    return IntegrationFilters.from_query(request.GET)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where to go after a plain POST: the `next` field if it is a path on this site."""
    return safe_path(request.POST.get("next", "")) or fallback
