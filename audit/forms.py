"""The audit log's filters."""

from typing import Any

from django import forms


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Actor", required=False, max_length=150)
    action = forms.ChoiceField(label="Action", required=False)
    project = forms.ChoiceField(label="Project", required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, actions: list[str], projects: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action_field = self.fields["action"]
        project_field = self.fields["project"]
        if isinstance(action_field, forms.ChoiceField) and isinstance(project_field, forms.ChoiceField):
            action_field.choices = [("", "All actions"), *[(a, a) for a in actions]]
            project_field.choices = [("", "All projects"), *[(p, p) for p in projects]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "“To” must be on or after “From”.")
        return cleaned
