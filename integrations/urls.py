from django.urls import path

from integrations.views import bulk, integration_actions, integration_create, projects

urlpatterns = [
    path("projects/<int:project_id>/", projects.project_detail_view, name="project_detail"),
    path("projects/<int:project_id>/refresh/", projects.project_refresh_view, name="project_refresh"),
    path("projects/<int:project_id>/try-now/", projects.project_try_now_view, name="project_try_now"),
    path(
        "projects/<int:project_id>/integrations/new/",
        integration_create.integration_create_view,
        name="integration_create",
    ),
    path("projects/<int:project_id>/integrations/bulk/", bulk.integration_bulk_view, name="integration_bulk"),
    path(
        "projects/<int:project_id>/integrations/bulk/<int:job_id>/",
        bulk.integration_bulk_job_view,
        name="integration_bulk_job",
    ),
    path(
        "projects/<int:project_id>/integrations/<int:integration_id>/",
        integration_actions.integration_detail_view,
        name="integration_detail",
    ),
    path(
        "projects/<int:project_id>/integrations/<int:integration_id>/status/",
        integration_actions.integration_status_view,
        name="integration_status",
    ),
    path(
        "projects/<int:project_id>/integrations/<int:integration_id>/delete/",
        integration_actions.integration_delete_view,
        name="integration_delete",
    ),
]
