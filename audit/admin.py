"""The audit log in Django admin: read-only, details shown through the same redaction as the page."""

from django.contrib import admin

from audit.models import AuditEvent
from qonadmin.admin import ReadOnlyAdmin
from qonadmin.templatetags.qonadmin import compact_json


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin[AuditEvent]):
    list_display = ("created_at", "actor_username", "action", "outcome", "project_name", "target_repr", "ip")
    list_filter = ("outcome", "action")
    search_fields = ("actor_username", "target_repr", "target_id")
    exclude = ("detail",)
    readonly_fields = ("redacted_detail",)

    @admin.display(description="Detail")
    def redacted_detail(self, event: AuditEvent) -> str:
        return compact_json(event.detail)
