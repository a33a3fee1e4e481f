from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("accounts.urls")),  # login/, logout/, account/…, password-reset/…, teams/<slug>/security/
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
]
