"""The audit log in Django admin: read-only, details shown through the same redaction as the page.

Who, which team and which project are shown as recorded (ids and names), never through
the related objects: the user, team or project may have been deleted since.

Also Django admin's "Delete selected" action, logging each deleted object on its own, so
that every deletion reaches the audit log (audit/signals.py)."""

from typing import Any, cast

from django.contrib import admin
from django.contrib.admin import actions
from django.db import models
from django.http import HttpRequest, HttpResponse

from audit.models import AuditEvent
from qonadmin.admin import ReadOnlyAdmin
from qonadmin.templatetags.qonadmin import compact_json


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin[AuditEvent]):
    list_display = (
        "created_at",
        "actor_username",
        "action",
        "outcome",
        "team_name",
        "project_name",
        "target_repr",
        "ip",
    )
    list_filter = ("outcome", "action")
    search_fields = ("actor_username", "target_repr", "target_id")
    fields = (
        "created_at",
        "actor_id",
        "actor_username",
        "team_id",
        "team_name",
        "project_id",
        "project_name",
        "action",
        "outcome",
        "target_type",
        "target_id",
        "target_repr",
        "redacted_detail",
        "ip",
    )
    readonly_fields = fields

    @admin.display(description="Detail")
    def redacted_detail(self, event: AuditEvent) -> str:
        return compact_json(event.detail)


class _LogEachDeletion:
    """A model admin as the delete action sees it, except that each deleted object is
    logged with its own LogEntry save. Django bulk-creates the entries of a deletion of
    several objects, which sends no post_save, so the audit log would not hear of them."""

    def __init__(self, model_admin: admin.ModelAdmin[Any]) -> None:
        self._model_admin = model_admin

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model_admin, name)

    def log_deletions(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        for obj in queryset:
            # A one-item list, as Django's own delete view passes.
            self._model_admin.log_deletions(request, [obj])  # type: ignore[arg-type]


@admin.action(permissions=["delete"], description=actions.delete_selected.short_description)  # type: ignore[attr-defined]
def delete_selected(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: models.QuerySet[Any]
) -> HttpResponse | None:
    """Django's own "Delete selected" (confirmation page, permissions, message)."""
    response: HttpResponse | None = actions.delete_selected(
        cast(admin.ModelAdmin[Any], _LogEachDeletion(modeladmin)), request, queryset
    )
    return response


admin.site.add_action(delete_selected, "delete_selected")
