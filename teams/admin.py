"""Teams, members, invitations and projects in Django admin: read-only (qonadmin/admin.py).

Secret keys are not shown or entered here: a project's key is checked with Qonversion
and audited when set, which only the dashboard's project settings do."""

from django.contrib import admin

from qonadmin.admin import ReadOnlyAdmin, ReadOnlyInline
from teams.models import Invitation, Membership, Project, Team


class MembershipInline(ReadOnlyInline[Membership, Team]):
    model = Membership
    fields = ("user", "role", "created_at")


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin[Team]):
    list_display = ("name", "slug", "require_two_factor", "created_at")
    search_fields = ("name", "slug")
    inlines = (MembershipInline,)


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin[Project]):
    list_display = ("name", "team", "environment", "key_hint", "synced_at")
    list_filter = ("environment", "team")
    fields = ("team", "name", "environment", "key_hint", "synced_at", "sync_error", "created_at")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin[Invitation]):
    list_display = ("email", "team", "role", "state", "created_at", "expires_at")
    list_filter = ("role", "team")
    exclude = ("token_hash",)
