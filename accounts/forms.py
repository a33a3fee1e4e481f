"""Forms of the accounts pages. Password forms are Django's own (see views.passwords)."""

import re

from django import forms

from accounts.two_factor import CODE_DIGITS

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


class TeamTwoFactorForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label="Require two-factor sign-in for this team",
        required=False,
        widget=forms.CheckboxInput(attrs={"role": "switch"}),  # Pico draws it as a switch
    )
