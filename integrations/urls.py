from django.urls import path

from integrations.views import health, integration_create, projects, teams

urlpatterns = [
    path("", teams.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("teams/<slug:team_slug>/", teams.team_detail, name="team_detail"),
    path("projects/<int:project_id>/", projects.project_detail, name="project_detail"),
    path("projects/<int:project_id>/refresh/", projects.project_refresh, name="project_refresh"),
    path(
        "projects/<int:project_id>/integrations/new/",
        integration_create.integration_create_view,
        name="integration_create",
    ),
]
