"""What Django admin may do: look, never write.

Every write goes through a service (the Qonversion key check, the owner rule, the audit
event); Django admin cannot call them cleanly, so qonadmin's models are read-only there.
Teams, members, projects and keys are managed in the dashboard itself."""

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

READ_ONLY_NOTE = "Read-only here: change this in the dashboard, where every change is checked and audited."


class ReadOnlyAdmin[M: models.Model](admin.ModelAdmin[M]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        return super().changelist_view(request, {**(extra_context or {}), "title": self._title()})

    def _title(self) -> str:
        return f"{str(self.model._meta.verbose_name_plural).capitalize()} — {READ_ONLY_NOTE}"


class ReadOnlyInline[M: models.Model, P: models.Model](admin.TabularInline[M, P]):
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
