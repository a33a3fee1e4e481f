from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo-only code (seed_demo and its sandbox controls), installed only with QONADMIN_DEMO."""

    name = "demo"
    verbose_name = "Demo data"
