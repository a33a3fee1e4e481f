"""Account → Two-factor sign-in: set up an authenticator app, or remove it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services, two_factor
from accounts.forms import OneTimeCodeForm
from accounts.views.helpers import next_url
from integrations.access import Action, memberships_for_user, role_allows
from integrations.models import Team
from integrations.views.helpers import client_ip, signed_in_user

PAGE = "accounts/two_factor.html"


@login_required
@never_cache  # the page shows a secret while enrolling
@require_http_methods(["GET", "POST"])
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if two_factor.confirmed_device(user) is not None:
        return _render_enabled(request, user, OneTimeCodeForm())

    secret = two_factor.enrolment_secret(request)
    target = next_url(request)
    form = OneTimeCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        match = two_factor.match_new_secret(secret, form.cleaned_data["code"])
        if match is not None:
            try:
                device = services.two_factor_enable(user=user, secret_hex=secret, match=match, ip=client_ip(request))
            except services.TwoFactorAlreadyOn:
                return redirect("two_factor")
            two_factor.forget_enrolment_secret(request)
            # The code just proved the device: this session counts as verified.
            two_factor.verify_session(request, device)
            messages.success(
                request, "Two-factor sign-in is on. From now on, sign in with your password and a one-time code."
            )
            return redirect(target or "two_factor")
        form.add_error(
            "code",
            "That code does not match. Check that your phone's clock is right and enter the code the app shows now.",
        )

    uri = two_factor.provisioning_uri(user, secret)
    context = {
        "enrolling": True,
        "form": form,
        "next": target,
        "secret": two_factor.readable_secret(secret),
        "qr_code": two_factor.qr_code_data_uri(uri),
        "required_by": two_factor.teams_requiring_two_factor(user),
        "owned_teams": _owned_teams(user),
    }
    return render(request, PAGE, context)


@login_required
@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    """Removing needs a current code, so a borrowed signed-in browser cannot do it."""
    user = signed_in_user(request)
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("two_factor")
    form = OneTimeCodeForm(request.POST)
    if form.is_valid():
        check = two_factor.check_code(user, device, form.cleaned_data["code"])
        if check.ok:
            services.two_factor_disable(user=user, ip=client_ip(request))
            messages.success(request, "Two-factor sign-in is off. You sign in with your password only.")
            return redirect("two_factor")
        if check.retry_at is not None:
            form.add_error("code", "Too many wrong codes. Wait a few seconds, then enter the code your app shows.")
        else:
            form.add_error("code", "That code is not right. Enter the 6-digit code your authenticator app shows now.")
    return _render_enabled(request, user, form)


def _render_enabled(request: HttpRequest, user: User, remove_form: OneTimeCodeForm) -> HttpResponse:
    context = {
        "enrolling": False,
        "form": remove_form,
        "required_by": two_factor.teams_requiring_two_factor(user),
        "owned_teams": _owned_teams(user),
    }
    return render(request, PAGE, context)


def _owned_teams(user: User) -> list[Team]:
    """Teams whose two-factor requirement this user can set: linked from this page."""
    return [m.team for m in memberships_for_user(user) if role_allows(m.role, Action.DELETE_TEAM)]
