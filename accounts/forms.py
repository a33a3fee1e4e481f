"""Forms of the accounts pages. Password forms are Django's own (see views.passwords)."""

import re
from typing import Any, override

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.template.loader import render_to_string

from accounts.two_factor import BACKUP_CODE, CODE_DIGITS, TOTP_CODE
from qonadmin.mail import send_email_later

_SPACES = re.compile(r"[\s-]+")


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label="One-time code",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "size": "8",
            }
        ),
        error_messages={"required": f"Enter the {CODE_DIGITS}-digit code from your authenticator app."},
    )

    def clean_code(self) -> str:
        # Apps show codes as "123 456"; people type them that way.
        code = _SPACES.sub("", self.cleaned_data["code"])
        if not re.fullmatch(f"[0-9]{{{CODE_DIGITS}}}", code):
            raise forms.ValidationError(f"Enter the {CODE_DIGITS}-digit code from your authenticator app.")
        return code


CODE_OR_BACKUP_CODE_MESSAGE = (
    f"Enter the {CODE_DIGITS}-digit code from your authenticator app, "
    "or one of your backup codes (8 letters and digits)."
)


class CodeOrBackupCodeForm(forms.Form):
    """A code from the app or a backup code: signing in, removing two-factor sign-in,
    making new backup codes. Which of the two it is, the check tells by its shape."""

    code = forms.CharField(
        label="One-time code",
        max_length=20,
        widget=forms.TextInput(
            # No inputmode="numeric": backup codes have letters, and a phone's number pad has none.
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false", "size": "10"}
        ),
        error_messages={"required": CODE_OR_BACKUP_CODE_MESSAGE},
    )

    def clean_code(self) -> str:
        # Spaces and dashes as people copy them; backup codes in either case.
        code = _SPACES.sub("", self.cleaned_data["code"]).lower()
        if not (TOTP_CODE.fullmatch(code) or BACKUP_CODE.fullmatch(code)):
            raise forms.ValidationError(CODE_OR_BACKUP_CODE_MESSAGE)
        return code


class TeamTwoFactorForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label="Require two-factor sign-in for this team",
        required=False,
        widget=forms.CheckboxInput(attrs={"role": "switch"}),  # Pico draws it as a switch
    )


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the email goes out from a task (sealed, retried)."""

    @override
    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = render_to_string(subject_template_name, context)
        body = render_to_string(email_template_name, context)
        send_email_later(subject=subject, body=body, to=[to_email])
