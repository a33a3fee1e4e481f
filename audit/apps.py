from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # Connected here rather than with @receiver at import time, so the receiver is
        # registered exactly once, when the app is installed.
        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_save

        from audit import signals

        post_save.connect(signals.audit_admin_change, sender=LogEntry, dispatch_uid="audit.audit_admin_change")
