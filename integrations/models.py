"""The local mirror of Qonversion integrations."""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from teams.models import Project


class Platform(models.TextChoices):
    IOS = "iOS", "iOS"
    ANDROID = "Android", "Android"
    STRIPE = "Stripe", "Stripe"


class Status(models.TextChoices):
    """An integration's state, by name. The wire's `active` 0/1/2 is mapped to these in
    the client (integrations/qonversion.py) and nowhere else; error is set only by
    Qonversion's delivery worker."""

    PAUSED = "paused", "Paused"
    ACTIVE = "active", "Active"
    ERROR = "error", "Error"


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
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PAUSED)
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
    # A pause or activate whose outcome is unknown: the state asked for ("" when none), and
    # when. Shown as "Waiting for Qonversion to confirm" until a refresh settles it
    # (integrations/sync.py).
    pending_status = models.CharField(max_length=10, choices=Status.choices, blank=True, default="")
    pending_since = models.DateTimeField(null=True, blank=True)
    # Where the status puts a row in the list: Error first, then Active, then Paused. Kept
    # by the database, so the list's order (selectors.BROKEN_FIRST) is an index walk that
    # stops after one page, not a sort of the whole project.
    broken_rank = models.GeneratedField(
        expression=models.Case(
            models.When(status=Status.ERROR, then=models.Value(0)),
            models.When(status=Status.ACTIVE, then=models.Value(1)),
            default=models.Value(2),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["project", "qonversion_id"], name="one_mirror_row_per_upstream_id")
        ]
        indexes: ClassVar = [
            # The chips, the filter bar's providers and the top bar's count read this index
            # alone (selectors.project_facets, status_counts).
            models.Index(
                fields=["project", "deleted_at", "status", "provider_name", "platform"], name="integration_facets"
            ),
            # The list's order (selectors.BROKEN_FIRST) within a project's live rows.
            models.Index(
                fields=["project", "deleted_at", "broken_rank", "-delivery_error_count", "title", "id"],
                name="integration_broken_first",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.qonversion_id})"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class IntegrationChange(models.Model):
    """One change of an integration's delivery health, as a sync or an action saw it:
    one row per change (not per sync), so the history stays small. Pruned after
    QONADMIN_HISTORY_DAYS."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices)
    previous_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    delivery_error_count = models.PositiveIntegerField(default=0)
    # The delivery errors this change added (integrations/mirror.py `errors_added`), so a
    # sparkline reads only the changes inside its window.
    errors_added = models.PositiveIntegerField(default=0)
    last_error_message = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["integration", "at"], name="change_by_integration_time"),
            models.Index(fields=["at"], name="change_by_time"),
        ]

    def __str__(self) -> str:
        return f"{self.integration_id} {self.previous_status or '-'} → {self.status} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def entered_error(self) -> bool:
        return self.status == Status.ERROR and self.previous_status != Status.ERROR

    @property
    def recovered(self) -> bool:
        return self.previous_status == Status.ERROR and self.status != Status.ERROR


class SyncSchedule(models.Model):
    """The one row that keeps the refresh schedule's tick single (integrations/scheduling.py)."""

    next_tick_at = models.DateTimeField(null=True, blank=True)
    last_pruned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"next tick at {self.next_tick_at}"


class BulkJob(models.Model):
    """A bulk pause, activate or delete, run by a task; the page polls its progress.
    `results` holds one line per row done: {"id", "title", "ok", "text", "changes"}."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="bulk_jobs")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=10)
    integration_ids = models.JSONField(default=list)
    ip = models.GenericIPAddressField(null=True, blank=True)
    results = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.action} of {len(self.integration_ids)} in project {self.project_id}"

    @property
    def total(self) -> int:
        return len(self.integration_ids)

    @property
    def done(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> int:
        return sum(not line.get("ok", True) for line in self.results)
