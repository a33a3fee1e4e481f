"""Forms validate what the user typed before anything is sent upstream."""

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms

from integrations.catalog import Catalog
from integrations.models import Platform
from integrations.qonversion import FieldError
from qonadmin.redaction import redact
from qonadmin.text import no_invisible_controls

TITLE_MAX_LENGTH = 255  # the contract's limit on `title`

# Upstream field names (v4 `error.details[].field`) -> form fields.
UPSTREAM_FIELDS = {"title": "title", "integration": "provider", "target_platform": "platform"}


class ProviderSelect(forms.Select):
    """A <select> whose options carry the provider's allowed stores, for the picker script."""

    def __init__(self, allowed: dict[str, tuple[str, ...] | None]) -> None:
        super().__init__()
        self.allowed = allowed

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        stores = self.allowed.get(str(value))
        if stores is not None:
            option["attrs"]["data-stores"] = ",".join(stores)
        return option


class IntegrationCreateForm(forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=TITLE_MAX_LENGTH,
        strip=True,
        validators=[no_invisible_controls],
        error_messages={
            "required": "Give the integration a title.",
            "max_length": "Keep the title to 255 characters or fewer.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. Amplitude — Production iOS"}),
    )
    provider = forms.ChoiceField(
        label="Provider",
        error_messages={"required": "Choose a provider.", "invalid_choice": "Choose a provider from the list."},
    )
    platform = forms.ChoiceField(
        label="Platform",
        choices=Platform.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a platform.", "invalid_choice": "Choose iOS, Android or Stripe."},
    )
    # One key per submission of this form, reused if the same submission is retried.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args: Any, catalog: Catalog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalog = catalog
        provider_field = self.fields["provider"]
        if not isinstance(provider_field, forms.ChoiceField):  # pragma: no cover - declared above
            raise TypeError("provider must be a ChoiceField")
        provider_field.choices = [("", "Choose a provider…")] + [
            (category.title, [(p.slug, p.title) for p in category.providers]) for category in catalog.categories
        ]
        provider_field.widget = ProviderSelect(
            {p.slug: p.allowed_stores for category in catalog.categories for p in category.providers}
        )
        provider_field.widget.choices = provider_field.choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        slug, platform = cleaned.get("provider"), cleaned.get("platform")
        provider = self.catalog.provider(slug) if slug else None
        if provider is not None and platform and provider.allowed_stores and platform not in provider.allowed_stores:
            allowed = ", ".join(provider.allowed_stores)
            self.add_error("platform", f"{provider.title} accepts {allowed} only.")
        return cleaned

    def add_upstream_errors(self, field_errors: Sequence[FieldError]) -> bool:
        """Put Qonversion's field errors under the matching fields; False if none matched."""
        matched = False
        for detail in field_errors:
            field = UPSTREAM_FIELDS.get(detail.field)
            if field is not None:
                self.add_error(field, f"Qonversion: {redact(detail.message)}")
                matched = True
        return matched
