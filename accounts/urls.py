from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.views import passwords, sign_in, team_security, two_factor_settings

urlpatterns = [
    path("login/", sign_in.sign_in_view, name="login"),
    path("login/code/", sign_in.sign_in_code_view, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Before admin.site.urls (see qonadmin/urls.py): the admin signs in through /login/ too.
    path("admin/login/", sign_in.admin_login_view, name="admin_login_redirect"),
    path("account/password/", passwords.password_change_view, name="password_change"),
    path("account/two-factor/", two_factor_settings.two_factor_settings_view, name="two_factor"),
    path("account/two-factor/remove/", two_factor_settings.two_factor_remove_view, name="two_factor_remove"),
    path(
        "account/two-factor/backup-codes/",
        two_factor_settings.two_factor_backup_codes_view,
        name="two_factor_backup_codes",
    ),
    path("password-reset/", passwords.password_reset_view, name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirm.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("teams/<slug:team_slug>/security/", team_security.team_security_view, name="team_security"),
]
