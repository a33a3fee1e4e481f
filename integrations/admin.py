"""Django admin for superusers. Secret keys are write-only here too."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from integrations.models import AuditEvent, Integration, Membership, Project, Team
from integrations.templatetags.qonadmin import compact_json


class MembershipInline(admin.TabularInline[Membership, Team]):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "slug", "created_at")
    prepopulated_fields = {"slug": ("name",)}  # noqa: RUF012 - Django's own attribute
    search_fields = ("name", "slug")
    inlines = (MembershipInline,)


class ProjectAdminForm(forms.ModelForm[Project]):
    secret_key = forms.CharField(
        label="Secret key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="sk_… or test_sk_…. Stored encrypted and never shown again; leave empty to keep the current key.",
    )

    class Meta:
        model = Project
        fields = ("team", "name")

    @sensitive_variables("key")
    def clean_secret_key(self) -> str:
        key: str = self.cleaned_data["secret_key"]
        if not key and not self.instance.secret_key_encrypted:
            raise forms.ValidationError("A new project needs its Qonversion secret key.")
        if key and not key.startswith(("sk_", "test_sk_")):
            raise forms.ValidationError("A Qonversion secret key starts with sk_ (production) or test_sk_ (sandbox).")
        return key

    @sensitive_variables("key")
    def save(self, commit: bool = True) -> Project:
        project = super().save(commit=False)
        if key := self.cleaned_data.get("secret_key"):
            project.set_secret_key(key)
        if commit:
            project.save()
        return project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    form = ProjectAdminForm
    list_display = ("name", "team", "environment", "key_hint", "synced_at")
    list_filter = ("environment", "team")
    readonly_fields = ("key_hint", "environment", "synced_at", "sync_error")

    @method_decorator(sensitive_post_parameters("secret_key"))
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin[Integration]):
    """Read-only: integrations change through Qonversion, via the dashboard's services."""

    list_display = ("title", "project", "provider_name", "platform", "active", "delivery_error_count", "deleted_at")
    list_filter = ("active", "platform", "project__team")
    search_fields = ("title", "qonversion_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ("created_at", "actor_username", "action", "outcome", "project_name", "target_repr", "ip")
    list_filter = ("outcome", "action")
    search_fields = ("actor_username", "target_repr", "target_id")
    # The details are shown through the same redaction as the audit page, never raw.
    exclude = ("detail",)
    readonly_fields = ("redacted_detail",)

    @admin.display(description="Detail")
    def redacted_detail(self, event: AuditEvent) -> str:
        return compact_json(event.detail)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
