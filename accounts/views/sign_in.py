"""Sign-in: the password, then, for a user with an authenticator app, a one-time code
(or one of their backup codes)."""

import math
from typing import Any

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from accounts import services, throttle, two_factor
from accounts.forms import CodeOrBackupCodeForm
from accounts.views.helpers import next_url, with_next
from qonadmin.http import client_ip
from teams.access import session_is_verified

LOCKED_OUT_STATUS = 429


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_view(request: HttpRequest) -> HttpResponse:
    target = next_url(request)
    if request.user.is_authenticated:
        return redirect(target or settings.LOGIN_REDIRECT_URL)
    # AuthenticationForm calls authenticate() with the request, so django-axes sees the
    # attempt: a locked-out client is refused before the password is checked, and its
    # middleware swaps this response for the locked-out page.
    form = AuthenticationForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if two_factor.confirmed_device(user) is None:
            auth.login(request, user)
            return redirect(target or settings.LOGIN_REDIRECT_URL)
        two_factor.start_pending_sign_in(request, user)
        return redirect(with_next(reverse("login_code"), target))
    return render(request, "registration/login.html", {"form": form, "next": target})


@sensitive_variables("code")
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code_view(request: HttpRequest) -> HttpResponse:
    """The second step. Also verifies a session signed in before its user set up
    two-factor sign-in, when a team that requires it sends them here."""
    target = next_url(request)
    pending = two_factor.pending_sign_in(request)
    user = pending.user if pending is not None else request.user
    if not isinstance(user, User):
        messages.info(request, "Enter your username and password to sign in.")
        return redirect(with_next(reverse("login"), target))
    if pending is None and session_is_verified(request.user):
        return redirect(target or settings.LOGIN_REDIRECT_URL)
    device = two_factor.confirmed_device(user)
    if device is None:
        # Removed in the meantime (for example by an admin helping a user who lost
        # their phone): the password alone signs them in again.
        two_factor.clear_pending_sign_in(request)
        if pending is None:
            return redirect(with_next(reverse("two_factor"), target))
        messages.info(request, "Two-factor sign-in is no longer set up for your account. Sign in again.")
        return redirect(with_next(reverse("login"), target))

    form = CodeOrBackupCodeForm(request.POST if request.method == "POST" else None)
    form.fields["code"].widget.attrs["autofocus"] = True  # the only thing to do on this page
    if request.method == "POST":
        username = user.get_username()
        if throttle.is_locked_out(request, username):
            two_factor.clear_pending_sign_in(request)
            return locked_out_view(request)
        if form.is_valid():
            code = form.cleaned_data["code"]
            check = services.one_time_code_check(user=user, device=device, code=code, ip=client_ip(request))
            if check.device is not None:
                if pending is not None:
                    two_factor.complete_sign_in(request, pending, check.device)
                else:
                    two_factor.verify_session(request, check.device)
                return redirect(target or settings.LOGIN_REDIRECT_URL)
            form.add_error("code", _refusal(request, check, username))
    return render(request, "accounts/sign_in_code.html", {"form": form, "next": target, "pending": pending})


@require_http_methods(["GET", "POST"])
def admin_login_view(request: HttpRequest) -> HttpResponse:
    """Django admin's own login form would sign a user in with the password alone,
    skipping their one-time code; its URL leads to this sign-in instead."""
    target = next_url(request) or reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect(with_next(reverse("login"), target))
    if getattr(request.user, "is_staff", False):
        return redirect(target)
    # Signed in but not staff: the admin would send them back here, in a loop.
    raise PermissionDenied("Django admin is for staff accounts.")


def _refusal(request: HttpRequest, check: two_factor.CodeCheck, username: str) -> str:
    """Why the code was refused; a wrong code counts as a failed sign-in."""
    if check.retry_at is not None:
        wait = max(1, math.ceil((check.retry_at - timezone.now()).total_seconds()))
        return f"Too many wrong codes for this account. Wait {wait} second{pluralize(wait)}, then try again."
    throttle.count_failed_code(request, username)
    if throttle.locked_out_now(request):
        # django-axes' middleware replaces this page with the locked-out one; after
        # the cool-off the password is needed again.
        two_factor.clear_pending_sign_in(request)
    return (
        "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your backup codes."
    )


def locked_out_view(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The page for a locked-out username + address (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=LOCKED_OUT_STATUS)
