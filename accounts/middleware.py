"""Send a member whose team requires two-factor sign-in to set it up or enter a code."""

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts.two_factor import confirmed_device
from qonadmin.http import htmx_current_page, safe_path
from teams.access import TwoFactorRequired


class TwoFactorRequiredMiddleware:
    """teams.access raises TwoFactorRequired for a session that has not passed
    a one-time code when the team requires one. Without a device the member goes to
    enrolment, with one to the code step; either way `next` brings them back.

    HTMX requests get HX-Redirect: a redirect there would swap a whole page into a
    fragment's place."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, TwoFactorRequired) or not isinstance(request.user, User):
            return None
        team = exception.team
        if confirmed_device(request.user) is None:
            target = reverse("two_factor")
            messages.info(request, f"{team.name} requires two-factor sign-in. Set it up to continue.")
        else:
            target = reverse("login_code")
            messages.info(request, f"{team.name} requires two-factor sign-in. Enter a one-time code to continue.")
        url = f"{target}?{urlencode({'next': _page_to_return_to(request)})}"
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)


def _page_to_return_to(request: HttpRequest) -> str:
    """The page the person was looking at: for HTMX, the page that made the request
    (the request's own URL may be a fragment or a POST-only action)."""
    current = htmx_current_page(request)
    if current:
        return current
    if request.method == "GET":
        return safe_path(request.get_full_path()) or "/"
    # A plain POST cannot be replayed after the code: back to the page it came from.
    try:
        referer = urlsplit(str(request.META.get("HTTP_REFERER", "")))
    except ValueError:
        return "/"
    if referer.netloc == request.get_host() and referer.path:
        return safe_path(referer.path + (f"?{referer.query}" if referer.query else "")) or "/"
    return "/"
