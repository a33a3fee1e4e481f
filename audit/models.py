"""The append-only audit log."""

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone


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
    # Who, which team and which project, as recorded: the ids stay when the user, team or
    # project is deleted later (no database constraint, nothing cascades or is set to
    # NULL), and the names beside them say who and what they were. Read `actor_id`,
    # `team_id`, `project_id` and the names, never the related objects: they may be gone.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    team_name = models.CharField(max_length=100, blank=True)
    project = models.ForeignKey(
        "teams.Project", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
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
        db_table = "integrations_auditevent"  # the table keeps the name it was created with
        ordering: ClassVar = ["-created_at", "-id"]
        # The log reads a team's events newest first, whole or filtered by one column
        # (audit/selectors.py): each index starts with the team, then the filtered column,
        # then time, so a page is one ordered range scan at any size. Personal events (no
        # team) are read per member and action from a partial index.
        indexes: ClassVar = [
            models.Index(fields=["target_type", "target_id"], name="audit_by_target"),
            models.Index(F("team"), F("created_at").desc(), F("id").desc(), name="audit_team_time"),
            models.Index(F("team"), "action", F("created_at").desc(), F("id").desc(), name="audit_team_action_time"),
            models.Index(
                F("team"), Upper("actor_username"), F("created_at").desc(), F("id").desc(), name="audit_team_actor_time"
            ),
            models.Index(
                F("team"), "project_name", F("created_at").desc(), F("id").desc(), name="audit_team_project_time"
            ),
            models.Index(
                F("actor"),
                "action",
                F("created_at").desc(),
                F("id").desc(),
                name="audit_personal_time",
                condition=Q(team__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events cannot be deleted")
