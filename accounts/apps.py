from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and sign-in"

    def ready(self) -> None:
        # Connected here rather than with @receiver at import time, so the audit
        # receivers exist exactly when the app is installed and are registered once.
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.models.signals import post_delete
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts import signals

        user_logged_in.connect(signals.audit_sign_in, dispatch_uid="accounts.audit_sign_in")
        user_login_failed.connect(signals.audit_failed_sign_in, dispatch_uid="accounts.audit_failed_sign_in")
        user_locked_out.connect(signals.audit_locked_out, dispatch_uid="accounts.audit_locked_out")
        post_delete.connect(signals.forget_backup_codes, sender=TOTPDevice, dispatch_uid="accounts.forget_backup_codes")
