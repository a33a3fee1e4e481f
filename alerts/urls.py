from django.urls import path

from alerts import views

urlpatterns = [
    path("teams/<slug:team_slug>/alerts/", views.team_alerts_view, name="team_alerts"),
    path("teams/<slug:team_slug>/alerts/mute/", views.team_alerts_mute_view, name="team_alerts_mute"),
    path("teams/<slug:team_slug>/alerts/test/", views.team_alert_channel_test_view, name="team_alert_channel_test"),
    path(
        "teams/<slug:team_slug>/alerts/enabled/",
        views.team_alert_channel_enabled_view,
        name="team_alert_channel_enabled",
    ),
    path(
        "teams/<slug:team_slug>/alerts/remove/", views.team_alert_channel_remove_view, name="team_alert_channel_remove"
    ),
]
