"""Forms for members, invitations, projects and the audit log filters."""

from typing import Any

from django import forms

from qonadmin.redaction import KEY_CHARACTERS
from qonadmin.text import no_invisible_controls
from teams.models import PRODUCTION_KEY_PREFIX, SANDBOX_KEY_PREFIX, Role

ROLE_HELP = (
    "Viewer: sees. Member: also creates, pauses and deletes integrations. "
    "Admin: also projects, keys and members. Owner: also deletes the team."
)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MEMBER, help_text=ROLE_HELP)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class SecretKeyField(forms.CharField):
    """Write-only: never rendered back into the page, not even after an error."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label=kwargs.pop("label", "Secret key"),
            strip=True,
            max_length=200,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
            help_text="Starts with sk_ (production) or test_sk_ (sandbox). Stored encrypted; never shown again.",
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        key: str = super().clean(value)
        if not key.startswith((PRODUCTION_KEY_PREFIX, SANDBOX_KEY_PREFIX)) or len(key) < 8:
            raise forms.ValidationError("A Qonversion secret key starts with sk_ (production) or test_sk_ (sandbox).")
        if not KEY_CHARACTERS.fullmatch(key):
            # Catches pasted invisible characters (zero-width spaces, "…") before any request.
            raise forms.ValidationError("The key contains characters a secret key cannot have; paste it again.")
        return key


class ProjectCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, strip=True, validators=[no_invisible_controls])
    secret_key = SecretKeyField()


class ReplaceKeyForm(forms.Form):
    secret_key = SecretKeyField(label="New secret key")


class ConfirmNameForm(forms.Form):
    """Typing the name makes deleting a whole project or team a deliberate act."""

    confirm_name = forms.CharField(label="Type the name to confirm", strip=True)

    def __init__(self, *args: Any, expected: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm_name(self) -> str:
        value: str = self.cleaned_data["confirm_name"]
        if value != self.expected:
            raise forms.ValidationError(f"Type “{self.expected}” exactly to confirm.")
        return value
