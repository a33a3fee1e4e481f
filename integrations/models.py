"""Teams, projects, the local mirror of Qonversion integrations, and the audit log."""

import uuid
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations import crypto


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
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
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
    """Qonversion selects the environment by key prefix alone (contract §2)."""
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

    class Meta:
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


class Platform(models.TextChoices):
    IOS = "iOS", "iOS"
    ANDROID = "Android", "Android"
    STRIPE = "Stripe", "Stripe"


class Status(models.IntegerChoices):
    """Qonversion's `active` field: 2 is set only by its delivery worker."""

    PAUSED = 0, "Paused"
    ACTIVE = 1, "Active"
    ERROR = 2, "Error"


class Integration(models.Model):
    """Local mirror of one Qonversion integration; Qonversion is the source of truth."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="integrations")
    qonversion_id = models.CharField(max_length=256)
    title = models.CharField(max_length=255)
    provider_slug = models.CharField(
        max_length=64, blank=True, help_text="Empty when the display name is not in the catalog"
    )
    provider_name = models.CharField(max_length=100)
    platform = models.CharField(max_length=10, choices=Platform.choices)
    active = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PAUSED)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error_message = models.TextField(blank=True)
    delivery_error_count = models.PositiveIntegerField(default=0)
    upstream_created_at = models.DateTimeField()
    upstream_updated_at = models.DateTimeField()
    synced_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A pause or activate whose outcome is unknown: the state asked for, and when. Shown as
    # "Waiting for Qonversion to confirm" until a refresh settles it (services.project_sync).
    pending_active = models.PositiveSmallIntegerField(choices=Status.choices, null=True, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["project", "qonversion_id"], name="one_mirror_row_per_upstream_id")
        ]
        indexes: ClassVar = [models.Index(fields=["project", "deleted_at", "active"], name="integration_listing")]

    def __str__(self) -> str:
        return f"{self.title} ({self.qonversion_id})"

    @property
    def status(self) -> Status:
        return Status(self.active)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def pending_status(self) -> Status | None:
        return Status(self.pending_active) if self.pending_active is not None else None


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    UNKNOWN = "unknown", "Unknown"  # Qonversion may have acted on it; it did not say


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events cannot be deleted")


class AuditEvent(models.Model):
    """An append-only record of one mutation, who did it, and how it ended upstream."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    project_name = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=50)
    target_type = models.CharField(max_length=30, blank=True)
    target_id = models.CharField(max_length=256, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["target_type", "target_id"], name="audit_by_target")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events cannot be deleted")
