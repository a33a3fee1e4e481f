from django.urls import path

from integrations.views import (
    audit_log,
    bulk,
    health,
    integration_actions,
    integration_create,
    invitations,
    members,
    project_admin,
    projects,
    teams,
)

urlpatterns = [
    path("", teams.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("invitations/<str:token>/", invitations.invitation_view, name="invitation"),
    path("teams/<slug:team_slug>/", teams.team_detail, name="team_detail"),
    path("teams/<slug:team_slug>/members/", members.team_members_view, name="team_members"),
    path("teams/<slug:team_slug>/members/<int:membership_id>/role/", members.member_role, name="member_role"),
    path(
        "teams/<slug:team_slug>/members/<int:membership_id>/remove/", members.member_remove_view, name="member_remove"
    ),
    path(
        "teams/<slug:team_slug>/invitations/<int:invitation_id>/resend/",
        members.invitation_resend_view,
        name="invitation_resend",
    ),
    path(
        "teams/<slug:team_slug>/invitations/<int:invitation_id>/revoke/",
        members.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("teams/<slug:team_slug>/audit/", audit_log.team_audit, name="team_audit"),
    path("teams/<slug:team_slug>/audit.csv", audit_log.team_audit_csv, name="team_audit_csv"),
    path("teams/<slug:team_slug>/projects/new/", project_admin.project_new, name="project_new"),
    path("teams/<slug:team_slug>/delete/", project_admin.team_delete_view, name="team_delete"),
    path("projects/<int:project_id>/", projects.project_detail, name="project_detail"),
    path("projects/<int:project_id>/refresh/", projects.project_refresh, name="project_refresh"),
    path("projects/<int:project_id>/try-now/", projects.project_try_now, name="project_try_now"),
    path("projects/<int:project_id>/settings/", project_admin.project_settings, name="project_settings"),
    path("projects/<int:project_id>/settings/key/", project_admin.project_key, name="project_key"),
    path("projects/<int:project_id>/settings/delete/", project_admin.project_delete_view, name="project_delete"),
    path(
        "projects/<int:project_id>/integrations/new/",
        integration_create.integration_create_view,
        name="integration_create",
    ),
    path("projects/<int:project_id>/integrations/bulk/", bulk.integration_bulk, name="integration_bulk"),
    path(
        "projects/<int:project_id>/integrations/<int:integration_id>/",
        integration_actions.integration_detail,
        name="integration_detail",
    ),
    path(
        "projects/<int:project_id>/integrations/<int:integration_id>/status/",
        integration_actions.integration_status,
        name="integration_status",
    ),
    path(
        "projects/<int:project_id>/integrations/<int:integration_id>/delete/",
        integration_actions.integration_delete_view,
        name="integration_delete",
    ),
]
