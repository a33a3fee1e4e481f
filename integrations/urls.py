from django.urls import path

from integrations.views import bulk, integration_actions, integration_create, projects

urlpatterns = [
    path("projects/<int:project_id>/", projects.project_detail, name="project_detail"),
    path("projects/<int:project_id>/refresh/", projects.project_refresh, name="project_refresh"),
    path("projects/<int:project_id>/try-now/", projects.project_try_now, name="project_try_now"),
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
