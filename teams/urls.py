from django.urls import path

from teams.views import invitations, members, project_admin, teams

urlpatterns = [
    path("", teams.home_view, name="home"),
    path("invitations/<str:token>/", invitations.invitation_view, name="invitation"),
    path("teams/<slug:team_slug>/", teams.team_detail_view, name="team_detail"),
    path("teams/<slug:team_slug>/members/", members.team_members_view, name="team_members"),
    path("teams/<slug:team_slug>/members/<int:membership_id>/role/", members.member_role_view, name="member_role"),
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
    path("teams/<slug:team_slug>/projects/new/", project_admin.project_new_view, name="project_new"),
    path("teams/<slug:team_slug>/delete/", project_admin.team_delete_view, name="team_delete"),
    path("projects/<int:project_id>/settings/", project_admin.project_settings_view, name="project_settings"),
    path("projects/<int:project_id>/settings/key/", project_admin.project_key_view, name="project_key"),
    path("projects/<int:project_id>/settings/delete/", project_admin.project_delete_view, name="project_delete"),
]
