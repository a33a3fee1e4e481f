from django.urls import path

from audit import views

urlpatterns = [
    path("teams/<slug:team_slug>/audit/", views.team_audit_view, name="team_audit"),
    path("teams/<slug:team_slug>/audit.csv", views.team_audit_csv_view, name="team_audit_csv"),
]
