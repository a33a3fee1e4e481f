"""Accepting an invitation: the link from the email, for new and existing users.

Members and viewers join with the link alone. For an admin or owner invitation the
page then asks for the code mailed to the invited address (the `step` field says
which form was sent); membership_services holds the rules.
"""

import re

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from qonadmin.http import client_ip
from teams.membership_services import (
    CODE_DIGITS,
    CODE_LIFETIME,
    CodeChallenge,
    MembershipError,
    UsernameTaken,
    invitation_accept,
    invitation_code_check,
    invitation_code_send,
    invitation_needs_code,
    invitation_sign_up,
    pending_invitation,
)
from teams.models import Invitation

PAGE = "teams/invitation.html"
CODE_PAGE = "teams/invitation_code.html"
# The code this browser is waiting for: one at a time, for one invitation.
CODE_SESSION_KEY = "integrations.invitation_code"
NO_CODE_WAITING = (
    "No code is waiting for this invitation in this browser: it was already used, replaced by a newer one, "
    "or never sent. Start again below."
)

_SPACES = re.compile(r"[\s-]+")


class SignUpForm(UserCreationForm[User]):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)


class InvitationCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the email",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "size": "8",
                "autofocus": True,
            }
        ),
        error_messages={"required": f"Enter the {CODE_DIGITS}-digit code from the email."},
    )

    def clean_code(self) -> str:
        code = _SPACES.sub("", self.cleaned_data["code"])  # "123 456" is typed too
        if not re.fullmatch(f"[0-9]{{{CODE_DIGITS}}}", code):
            raise forms.ValidationError(f"The code is {CODE_DIGITS} digits. Copy it from the latest email.")
        return code


@sensitive_post_parameters("password1", "password2", "code")
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = pending_invitation(token)
    if invitation is None:
        return render(request, PAGE, {"invalid": True}, status=404)
    user = request.user if isinstance(request.user, User) else None
    challenge = _waiting_code(request, invitation, user)
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step in ("code", "resend", "restart") and challenge is None:
        if step != "restart":
            messages.error(request, NO_CODE_WAITING)
        return redirect(request.path)
    if challenge is not None:
        if step == "code":
            return _check_code(request, invitation, challenge, user)
        if step == "resend":
            return _send_code(request, invitation, user, challenge.username, challenge.password_hash, again=True)
        if step == "restart":
            request.session.pop(CODE_SESSION_KEY, None)
            return redirect(request.path)
        if request.method == "GET":
            return _code_page(request, invitation, challenge, InvitationCodeForm())
    if user is not None:
        return _join_signed_in(request, invitation, user)
    return _sign_up(request, invitation)


def _waiting_code(request: HttpRequest, invitation: Invitation, user: User | None) -> CodeChallenge | None:
    challenge = CodeChallenge.from_session(request.session.get(CODE_SESSION_KEY))
    return challenge if challenge is not None and challenge.belongs_to(invitation, user) else None


def _join_signed_in(request: HttpRequest, invitation: Invitation, user: User) -> HttpResponse:
    if request.method != "POST":
        return render(request, PAGE, {"invitation": invitation, "needs_code": invitation_needs_code(invitation)})
    if invitation_needs_code(invitation):
        return _send_code(request, invitation, user)
    try:
        invitation_accept(invitation=invitation, user=user, ip=client_ip(request))
    except MembershipError as error:
        messages.error(request, str(error))
        return redirect("home")
    return _welcome(request, invitation)


@sensitive_variables("password_hash")
def _sign_up(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    """Not signed in: create an account here, or sign in first and come back."""
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        password_hash = make_password(form.cleaned_data["password1"])
        if invitation_needs_code(invitation):
            return _send_code(request, invitation, None, username, password_hash, form=form)
        try:
            new_user = invitation_sign_up(
                invitation=invitation, username=username, password_hash=password_hash, ip=client_ip(request)
            )
        except UsernameTaken as error:
            form.add_error("username", str(error))
        except MembershipError as error:
            messages.error(request, str(error))
            return redirect(request.path)
        else:
            return _welcome(request, invitation, new_user)
    return _sign_up_page(request, invitation, form)


def _sign_up_page(request: HttpRequest, invitation: Invitation, form: SignUpForm) -> HttpResponse:
    needs_code = invitation_needs_code(invitation)
    context = {"invitation": invitation, "form": form, "next": request.path, "needs_code": needs_code}
    return render(request, PAGE, context)


@sensitive_variables("password_hash")
def _send_code(
    request: HttpRequest,
    invitation: Invitation,
    user: User | None,
    username: str = "",
    password_hash: str = "",
    *,
    form: SignUpForm | None = None,
    again: bool = False,
) -> HttpResponse:
    try:
        challenge = invitation_code_send(
            invitation=invitation, user=user, username=username, password_hash=password_hash, ip=client_ip(request)
        )
    except MembershipError as error:
        if form is not None:  # back to the sign-up form, the username still filled in
            form.add_error(None, str(error))
            return _sign_up_page(request, invitation, form)
        messages.error(request, str(error))
        return redirect(request.path)
    request.session[CODE_SESSION_KEY] = challenge.to_session()
    if again:
        messages.info(request, "We sent a new code. Only the newest code works.")
    return redirect(request.path)


@sensitive_variables("code")
def _check_code(
    request: HttpRequest, invitation: Invitation, challenge: CodeChallenge, user: User | None
) -> HttpResponse:
    form = InvitationCodeForm(request.POST)
    if not form.is_valid():
        return _code_page(request, invitation, challenge, form)
    ip = client_ip(request)
    try:
        check = invitation_code_check(
            invitation=invitation, challenge=challenge, user=user, code=form.cleaned_data["code"], ip=ip
        )
    except MembershipError as error:  # the invitation was revoked or used in the meantime
        request.session.pop(CODE_SESSION_KEY, None)
        messages.error(request, str(error))
        return redirect(request.path)
    if check.proof is None:
        request.session[CODE_SESSION_KEY] = check.challenge.to_session()
        form.add_error("code", check.refusal)
        return _code_page(request, invitation, check.challenge, form)

    request.session.pop(CODE_SESSION_KEY, None)  # a code works once
    try:
        if user is not None:
            invitation_accept(invitation=invitation, user=user, proof=check.proof, ip=ip)
            return _welcome(request, invitation)
        new_user = invitation_sign_up(
            invitation=invitation,
            username=challenge.username,
            password_hash=challenge.password_hash,
            proof=check.proof,
            ip=ip,
        )
    except UsernameTaken as error:
        messages.error(
            request,
            f"Someone took the username {challenge.username} while you were getting the code. "
            "Choose another username and password; we will send you a new code.",
        )
        return _sign_up_page(request, invitation, _taken_username_form(challenge.username, str(error)))
    except MembershipError as error:
        messages.error(request, str(error))
        return redirect(request.path)
    return _welcome(request, invitation, new_user)


def _taken_username_form(username: str, error: str) -> SignUpForm:
    """The sign-up form with the username they chose and why it is refused. The
    passwords were not sent this time, so they get no "required" errors."""
    form = SignUpForm(data={"username": username})
    form.full_clean()
    for field in ("password1", "password2"):
        form.errors.pop(field, None)
    if "username" not in form.errors:
        form.add_error("username", error)
    return form


def _code_page(
    request: HttpRequest, invitation: Invitation, challenge: CodeChallenge, form: InvitationCodeForm
) -> HttpResponse:
    context = {
        "invitation": invitation,
        "form": form,
        "sent_to": masked_email(invitation.email),
        "minutes": int(CODE_LIFETIME.total_seconds() // 60),
        "new_username": challenge.username,
        "void": bool(challenge.void_reason),
    }
    return render(request, CODE_PAGE, context)


def masked_email(email: str) -> str:
    """ "a…@example.com": enough to know which mailbox to open."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def _welcome(request: HttpRequest, invitation: Invitation, new_user: User | None = None) -> HttpResponse:
    if new_user is not None:
        login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {invitation.team.name}, {new_user.get_username()}.")
    else:
        messages.success(request, f"Welcome to {invitation.team.name}.")
    return redirect("team_detail", team_slug=invitation.team.slug)
