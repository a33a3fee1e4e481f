"""Teams, their members and invitations, and their Qonversion projects with encrypted keys."""

import uuid
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from teams import crypto


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class Team(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    require_two_factor = models.BooleanField(
        default=False, help_text="Members must sign in with a one-time code to see this team"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")

    class Meta:
        db_table = "integrations_team"  # the table keeps the name it was created with
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "integrations_membership"
        constraints: ClassVar = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


INVITATION_LIFETIME = timedelta(days=7)


class Invitation(models.Model):
    """An invitation to join a team, accepted through a single-use link.

    Only a SHA-256 hash of the link's token is stored, so a database dump cannot be
    used to accept an invitation."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "integrations_invitation"
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} to {self.team} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def state(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    SANDBOX = "sandbox", "Sandbox"


SANDBOX_KEY_PREFIX = "test_sk_"
PRODUCTION_KEY_PREFIX = "sk_"


def environment_of_key(secret_key: str) -> Environment:
    """Qonversion selects the environment by key prefix alone (docs/qonversion-v4-integrations.md §2)."""
    return Environment.SANDBOX if secret_key.startswith(SANDBOX_KEY_PREFIX) else Environment.PRODUCTION


def mask_key(secret_key: str) -> str:
    prefix = SANDBOX_KEY_PREFIX if secret_key.startswith(SANDBOX_KEY_PREFIX) else PRODUCTION_KEY_PREFIX
    return f"{prefix}…{secret_key[-4:]}"


class Project(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=100)
    # Stable, never reused: the encrypted key is bound to it (associated data).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    secret_key_encrypted = models.TextField(editable=False)
    key_hint = models.CharField(max_length=16, editable=False, help_text="Masked key, e.g. sk_…9f3a")
    environment = models.CharField(max_length=10, choices=Environment.choices, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    synced_at = models.DateTimeField(null=True, blank=True, help_text="Last successful refresh from Qonversion")
    sync_attempted_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True, help_text="Why the last refresh failed; empty after a success")
    # Set while one refresh is talking to Qonversion, so others do not pile up behind it.
    sync_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The circuit breaker (integrations/breaker.py): consecutive failures, and until when
    # no call is made for this project.
    upstream_failures = models.PositiveIntegerField(default=0, editable=False)
    upstream_paused_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Scheduled refreshes (integrations/scheduling.py): when the next one is due, how many
    # in a row Qonversion refused the key (they back off), and when one was last asked for.
    next_sync_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    key_refusals = models.PositiveIntegerField(default=0, editable=False)
    sync_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "integrations_project"
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["team", "name"], name="project_name_unique_in_team")]

    def __str__(self) -> str:
        return self.name

    @property
    def upstream_paused(self) -> bool:
        """Whether the circuit breaker holds calls to Qonversion for this project right now."""
        return self.upstream_paused_until is not None and self.upstream_paused_until > timezone.now()

    def _associated_data(self) -> str:
        return f"project:{self.public_id}:secret_key"

    # The names below also cover the crypto frames these methods call (plaintext, plain).
    @sensitive_variables("secret_key", "plaintext")
    def set_secret_key(self, secret_key: str) -> None:
        self.secret_key_encrypted = crypto.encrypt(secret_key, associated_data=self._associated_data())
        self.key_hint = mask_key(secret_key)
        self.environment = environment_of_key(secret_key)

    @sensitive_variables("plain")
    def secret_key(self) -> str:
        return crypto.decrypt(self.secret_key_encrypted, associated_data=self._associated_data())

    @sensitive_variables("plaintext", "plain")
    def reencrypt_secret_key(self) -> None:
        """Re-seal the stored key under the current primary encryption key."""
        self.secret_key_encrypted = crypto.encrypt(self.secret_key(), associated_data=self._associated_data())
