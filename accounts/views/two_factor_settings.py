"""Account → Two-factor sign-in: set up an authenticator app, make new backup codes,
or remove it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services, two_factor
from accounts.forms import CodeOrBackupCodeForm, OneTimeCodeForm
from accounts.views.helpers import next_url
from qonadmin.http import client_ip, signed_in_user
from teams.access import Action, memberships_for_user, role_allows
from teams.models import Team

PAGE = "accounts/two_factor.html"
CODES_PAGE = "accounts/backup_codes.html"
# Two forms on one page, both with a field named "code": distinct ids for their labels.
NEW_CODES_AUTO_ID = "id_new_codes_%s"
WRONG_CODE = (
    "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your backup codes."
)
TOO_MANY_WRONG_CODES = "Too many wrong codes. Wait a few seconds, then try again."


@sensitive_variables("secret", "enabled")
@sensitive_post_parameters("code")
@login_required
@never_cache  # the page shows a secret while enrolling, then the backup codes
@require_http_methods(["GET", "POST"])
def two_factor_settings_view(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if two_factor.confirmed_device(user) is not None:
        return _render_enabled(request, user)

    secret = two_factor.enrolment_secret(request)
    target = next_url(request)
    form = OneTimeCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        match = two_factor.match_new_secret(secret, form.cleaned_data["code"])
        if match is not None:
            try:
                enabled = services.two_factor_enable(user=user, secret_hex=secret, match=match, ip=client_ip(request))
            except services.TwoFactorAlreadyOn:
                return redirect("two_factor")
            two_factor.forget_enrolment_secret(request)
            # The code just proved the device: this session counts as verified.
            two_factor.verify_session(request, enabled.device)
            # Shown in this response and nowhere else: reloading it does not show them again.
            return _render_codes(request, enabled.backup_codes, just_enabled=True, target=target)
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


@sensitive_variables("codes")
@sensitive_post_parameters("code")
@login_required
@never_cache  # the answer shows the new backup codes
@require_POST
def two_factor_backup_codes_view(request: HttpRequest) -> HttpResponse:
    """New backup codes, replacing the old ones. Like removing, it needs a code from the
    app or a backup code, so a borrowed signed-in browser cannot read fresh codes."""
    user = signed_in_user(request)
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("two_factor")
    form = CodeOrBackupCodeForm(request.POST, auto_id=NEW_CODES_AUTO_ID)
    if form.is_valid() and _check(request, user, device, form):
        codes = services.backup_codes_create(user=user, ip=client_ip(request))
        return _render_codes(request, codes, just_enabled=False, target="")
    return _render_enabled(request, user, new_codes_form=form)


@sensitive_post_parameters("code")
@login_required
@require_POST
def two_factor_remove_view(request: HttpRequest) -> HttpResponse:
    """Removing needs a code from the app or a backup code, so a borrowed signed-in
    browser cannot do it; someone who lost their phone can, with a backup code."""
    user = signed_in_user(request)
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("two_factor")
    form = CodeOrBackupCodeForm(request.POST)
    if form.is_valid() and _check(request, user, device, form):
        services.two_factor_disable(user=user, ip=client_ip(request))
        messages.success(request, "Two-factor sign-in is off. You sign in with your password only.")
        return redirect("two_factor")
    return _render_enabled(request, user, remove_form=form)


@sensitive_variables("code")
def _check(request: HttpRequest, user: User, device: TOTPDevice, form: CodeOrBackupCodeForm) -> bool:
    """Whether the form's code is right; if not, the form says why."""
    code = form.cleaned_data["code"]
    check = services.one_time_code_check(user=user, device=device, code=code, ip=client_ip(request))
    if check.ok:
        return True
    form.add_error("code", TOO_MANY_WRONG_CODES if check.retry_at is not None else WRONG_CODE)
    return False


def _render_enabled(
    request: HttpRequest,
    user: User,
    *,
    remove_form: CodeOrBackupCodeForm | None = None,
    new_codes_form: CodeOrBackupCodeForm | None = None,
) -> HttpResponse:
    context = {
        "enrolling": False,
        "form": remove_form or CodeOrBackupCodeForm(),
        "new_codes_form": new_codes_form or CodeOrBackupCodeForm(auto_id=NEW_CODES_AUTO_ID),
        "backup_codes_left": two_factor.backup_codes_left(user),
        "required_by": two_factor.teams_requiring_two_factor(user),
        "owned_teams": _owned_teams(user),
    }
    return render(request, PAGE, context)


@sensitive_variables("codes")
def _render_codes(request: HttpRequest, codes: list[str], *, just_enabled: bool, target: str) -> HttpResponse:
    context = {"codes": codes, "just_enabled": just_enabled, "continue_url": target or reverse("two_factor")}
    return render(request, CODES_PAGE, context)


def _owned_teams(user: User) -> list[Team]:
    """Teams whose two-factor requirement this user can set: linked from this page."""
    return [m.team for m in memberships_for_user(user) if role_allows(m.role, Action.DELETE_TEAM)]
