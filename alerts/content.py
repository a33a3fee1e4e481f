"""What an alert says, for each kind of channel: the webhook's JSON body, the Slack
text and the email. Built from the history row of the transition (the state the sync
saw), not from the integration's current row."""

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from alerts.models import AlertDelivery, AlertEvent

TEST_MESSAGE = "This is a test alert from qonadmin: this channel works."


@dataclass(frozen=True)
class Alert:
    event: str
    team_name: str
    team_slug: str
    project_name: str = ""
    integration_id: str = ""
    title: str = ""
    provider: str = ""
    platform: str = ""
    last_error_message: str = ""
    delivery_error_count: int = 0
    url: str | None = None

    @property
    def is_test(self) -> bool:
        return self.event == AlertEvent.TEST

    @property
    def entered_error(self) -> bool:
        return self.event == AlertEvent.ERROR


def _absolute(path: str) -> str | None:
    base = settings.QONADMIN_BASE_URL
    return f"{base}{path}" if base else None


def alert_of(delivery: AlertDelivery) -> Alert:
    team = delivery.team
    change = delivery.change
    if change is None:
        return Alert(
            event=AlertEvent.TEST,
            team_name=team.name,
            team_slug=team.slug,
            title="Test alert",
            last_error_message=TEST_MESSAGE,
            url=_absolute(reverse("team_alerts", kwargs={"team_slug": team.slug})),
        )
    integration = change.integration
    return Alert(
        event=delivery.event,
        team_name=team.name,
        team_slug=team.slug,
        project_name=integration.project.name,
        integration_id=integration.qonversion_id,
        title=integration.title,
        provider=integration.provider_name,
        platform=integration.platform,
        last_error_message=change.last_error_message,
        delivery_error_count=change.delivery_error_count,
        url=_absolute(
            reverse(
                "integration_detail", kwargs={"project_id": integration.project_id, "integration_id": integration.pk}
            )
        ),
    )


# ---- webhook -----------------------------------------------------------------------------


def webhook_payload(alert: Alert) -> dict[str, Any]:
    return {
        "event": alert.event,
        "integration": {
            "id": alert.integration_id,
            "title": alert.title,
            "provider": alert.provider,
            "platform": alert.platform,
        },
        "project": {"name": alert.project_name},
        "team": {"slug": alert.team_slug},
        "last_error_message": alert.last_error_message,
        "delivery_error_count": alert.delivery_error_count,
        "url": alert.url,
    }


def json_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def webhook_body(alert: Alert) -> bytes:
    """The exact bytes that are signed and sent."""
    return json_bytes(webhook_payload(alert))


# ---- Slack -------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Text from Qonversion or a person, shown literally by Slack: no links, mentions
    (`<!channel>`) or formatting smuggled in."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(alert: Alert) -> str:
    if alert.is_test:
        return f"qonadmin test alert for {slack_escape(alert.team_name)}: this channel works."
    where = f"{slack_escape(alert.project_name)} ({slack_escape(alert.team_name)})"
    what = f"*{slack_escape(alert.title)}* ({slack_escape(alert.provider)}, {slack_escape(alert.platform)})"
    if alert.entered_error:
        lines = [
            f":red_circle: {what} in {where} went into Error after {alert.delivery_error_count} failed deliveries.",
            f"Last error: {slack_escape(alert.last_error_message or '(none given)')}",
        ]
    else:
        lines = [f":large_green_circle: {what} in {where} recovered: it is out of Error."]
    if alert.url:
        lines.append(f"<{alert.url}|Open in qonadmin>")
    return "\n".join(lines)


# ---- email -------------------------------------------------------------------------------


def email_subject(alert: Alert) -> str:
    if alert.is_test:
        subject = f"[qonadmin] Test alert for {alert.team_name}"
    elif alert.entered_error:
        subject = f"[qonadmin] “{alert.title}” is in Error in {alert.project_name}"
    else:
        subject = f"[qonadmin] “{alert.title}” recovered in {alert.project_name}"
    # One line whatever the names hold: mail headers cannot hold line breaks.
    return " ".join(subject.split())


def email_body(alert: Alert) -> str:
    return render_to_string("alerts/alert_email.txt", {"alert": alert})
