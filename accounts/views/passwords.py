"""Changing a password while signed in, and resetting a forgotten one by email.

Django's password forms do the checking (old password, validators, reset tokens); the
new password is saved by accounts.services, which records the audit event."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.models import User
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import QueuedPasswordResetForm
from qonadmin.http import client_ip, signed_in_user


@login_required
@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.password_change(
            user=user, new_password=form.cleaned_data["new_password1"], via="password change", ip=client_ip(request)
        )
        # Other sessions of this user end (their stored hash no longer matches); this one stays.
        update_session_auth_hash(request, user)
        messages.success(request, "Your password was changed. Other browsers signed in as you were signed out.")
        return redirect("password_change")
    return render(request, "accounts/password_change.html", {"form": form})


@csrf_protect
@require_http_methods(["GET", "POST"])
def password_reset_view(request: HttpRequest) -> HttpResponse:
    """Always the same answer, whether or not the address belongs to an account."""
    form = QueuedPasswordResetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        users = list(form.get_users(email))
        # One email per active account with that address, sent by a task (qonadmin/mail.py).
        form.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name="registration/password_reset_subject.txt",
            email_template_name="registration/password_reset_email.txt",
        )
        services.password_reset_requested(users=users, ip=client_ip(request))
        return redirect("password_reset_done")
    return render(request, "registration/password_reset_form.html", {"form": form})


class PasswordResetConfirm(PasswordResetConfirmView):
    """Django's view (token checks, token moved out of the URL into the session), but
    the new password is saved by our service so the change is audited. The user is
    not signed in afterwards: they sign in with the new password, and their one-time
    code if they use one, so a reset link alone never gets past two-factor sign-in."""

    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:  # type: ignore[type-arg]
        user = self.user
        if not isinstance(user, User):  # pragma: no cover - dispatch() shows the form only for a valid link
            raise PermissionDenied
        services.password_change(
            user=user,
            new_password=form.cleaned_data["new_password1"],
            via="reset link",
            ip=client_ip(self.request),
        )
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())
