"""Integrations in Django admin: read-only; they change through Qonversion, via the services."""

from django.contrib import admin

from integrations.models import Integration
from qonadmin.admin import ReadOnlyAdmin


@admin.register(Integration)
class IntegrationAdmin(ReadOnlyAdmin[Integration]):
    list_display = ("title", "project", "provider_name", "platform", "status", "delivery_error_count", "deleted_at")
    list_filter = ("status", "platform", "project__team")
    list_per_page = 100  # as the project page (bench/page_size.py compares the two)
    search_fields = ("title", "qonversion_id")
