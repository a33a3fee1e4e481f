from django.contrib import admin
from django.urls import include, path

from qonadmin.health import healthz_view

urlpatterns = [
    path("healthz", healthz_view, name="healthz"),
    path("", include("accounts.urls")),  # login/, logout/, account/…, password-reset/…, teams/<slug>/security/
    path("admin/", admin.site.urls),
    path("", include("teams.urls")),
    path("", include("audit.urls")),
    path("", include("alerts.urls")),  # teams/<slug>/alerts/…
    path("", include("integrations.urls")),
]
