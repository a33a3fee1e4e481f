"""The forms of the Alerts page: add a channel (one form per kind), and the switches."""

from typing import Any

from django import forms

from alerts.models import ChannelKind
from qonadmin.text import no_invisible_controls
from teams.models import Membership, Team


class MemberChoiceField(forms.ModelMultipleChoiceField[Membership]):
    def label_from_instance(self, obj: Membership) -> str:
        email = obj.user.email or "no email address"
        return f"{obj.user.get_username()} ({email})"


class ChannelForm(forms.Form):
    """One form for the three kinds; the page shows each kind's fields only. The service
    checks the URL and the members (the same rules as `add_alert_channel`)."""

    kind = forms.ChoiceField(choices=ChannelKind.choices, widget=forms.HiddenInput)
    label = forms.CharField(label="Name", max_length=100, strip=True, validators=[no_invisible_controls])
    url = forms.CharField(
        label="URL",
        required=False,
        max_length=2000,
        strip=True,
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Stored encrypted; afterwards only its start and last four characters are shown.",
    )
    members = MemberChoiceField(
        label="Members to email",
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, data: Any = None, *, team: Team, kind: str) -> None:
        # Three of these on one page: ids carry the kind (id_slack_url).
        super().__init__(data, initial={"kind": kind}, auto_id=f"id_{kind}_%s")
        members = self.fields["members"]
        if isinstance(members, MemberChoiceField):
            members.queryset = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
        url = self.fields["url"]
        if kind == ChannelKind.SLACK:
            url.label = "Slack incoming webhook URL"
            url.widget.attrs["placeholder"] = "https://hooks.slack.com/services/…"
        elif kind == ChannelKind.WEBHOOK:
            url.label = "Webhook URL"
            url.widget.attrs["placeholder"] = "https://example.com/qonadmin-alerts"


class MuteForm(forms.Form):
    muted = forms.TypedChoiceField(choices=[("yes", "yes"), ("no", "no")], coerce=lambda value: value == "yes")


class EnabledForm(forms.Form):
    enabled = forms.TypedChoiceField(choices=[("on", "on"), ("off", "off")], coerce=lambda value: value == "on")
