"""Where a team's alerts go (channels), each alert sent or being retried (deliveries),
and who muted email alerts for themselves."""

import uuid
from typing import ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations.models import IntegrationChange
from teams import crypto
from teams.models import Membership, Team


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"
    WEBHOOK = "webhook", "Webhook"


def mask_url(url: str) -> str:
    """What the page may show of a channel URL: scheme, host and the last four
    characters (`https://hooks.slack.com/…/abcd`). The path of a Slack or webhook URL
    is a credential; it is never shown whole after the channel is added."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…/{url.rstrip('/')[-4:]}"


class AlertChannel(models.Model):
    """One place a team's alerts go: chosen members by email, a Slack incoming webhook,
    or a generic webhook signed with the channel's secret. URL and secret are encrypted
    at rest (teams/crypto.py), bound to this row by its public id."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_channels")
    # Stable, never reused: the encrypted values are bound to it (associated data).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    label = models.CharField(max_length=100)
    target_encrypted = models.TextField(blank=True, editable=False)  # Slack / webhook URL
    target_hint = models.CharField(max_length=300, blank=True, editable=False, help_text="Masked URL")
    secret_encrypted = models.TextField(blank=True, editable=False)  # webhook signing secret
    members = models.ManyToManyField(Membership, blank=True, related_name="+")  # email recipients
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        constraints: ClassVar = [
            # Also what makes a re-submitted "add channel" form harmless.
            models.UniqueConstraint(fields=["team", "label"], name="alert_channel_label_unique_in_team")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} “{self.label}” ({self.team})"

    def _associated_data(self, what: str) -> str:
        return f"alert-channel:{self.public_id}:{what}"

    @sensitive_variables("url", "plaintext")
    def set_target(self, url: str) -> None:
        self.target_encrypted = crypto.encrypt(url, associated_data=self._associated_data("target"))
        self.target_hint = mask_url(url)

    @sensitive_variables("plain")
    def target(self) -> str:
        return crypto.decrypt(self.target_encrypted, associated_data=self._associated_data("target"))

    @sensitive_variables("secret", "plaintext")
    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(secret, associated_data=self._associated_data("secret"))

    @sensitive_variables("plain")
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted, associated_data=self._associated_data("secret"))

    @sensitive_variables("plaintext", "plain")
    def reencrypt(self) -> None:
        """Re-seal the stored URL and secret under the current primary encryption key."""
        if self.target_encrypted:
            self.target_encrypted = crypto.encrypt(self.target(), associated_data=self._associated_data("target"))
        if self.secret_encrypted:
            self.secret_encrypted = crypto.encrypt(self.secret(), associated_data=self._associated_data("secret"))


class AlertEvent(models.TextChoices):
    ERROR = "integration.error", "Went into Error"
    RECOVERED = "integration.recovered", "Recovered"
    TEST = "test", "Test alert"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # not sent yet, or waiting for its next try
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # gave up after the last try
    SKIPPED = "skipped", "Nobody to email"  # every recipient muted or without an address


class AlertDelivery(models.Model):
    """One alert to one channel, about one transition (or a test alert).

    The unique (channel, change) row is the claim: whichever sync, worker or retry
    tries to alert about the same transition on the same channel, only one row exists,
    so one alert is sent. `channel` is empty for the team's default (owners and admins
    by email, when the team has no channel); `change` is empty for a test alert."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(
        AlertChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    change = models.ForeignKey(
        IntegrationChange, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_deliveries"
    )
    event = models.CharField(max_length=32, choices=AlertEvent.choices)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Why the last try failed, for the Alerts page: redacted, never the channel's URL.
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A worker sending it right now holds it until then (another worker leaves it alone).
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["channel", "change"], name="one_alert_per_transition_per_channel"),
            models.UniqueConstraint(
                fields=["change"], condition=Q(channel__isnull=True), name="one_default_alert_per_transition"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["team", "-created_at"], name="alert_delivery_recent")]

    def __str__(self) -> str:
        return f"{self.event} to {self.channel_id or 'default'}: {self.status}"


class EmailAlertMute(models.Model):
    """This person gets no alert email from this team (channels or the default)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["team", "user"], name="one_email_mute_per_team")]

    def __str__(self) -> str:
        return f"{self.user} muted email alerts of {self.team}"
