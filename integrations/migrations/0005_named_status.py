"""The integration's state by name (paused / active / error) instead of the wire's 0/1/2."""

from django.db import migrations, models

NAMES = {0: "paused", 1: "active", 2: "error"}


def to_names(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    for number, name in NAMES.items():
        Integration.objects.filter(active=number).update(status=name)
        Integration.objects.filter(pending_active=number).update(pending_status=name)


def to_numbers(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    for number, name in NAMES.items():
        Integration.objects.filter(status=name).update(active=number)
        Integration.objects.filter(pending_status=name).update(pending_active=number)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0004_teams_and_audit_move_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="status",
            field=models.CharField(
                choices=[("paused", "Paused"), ("active", "Active"), ("error", "Error")],
                default="paused",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="integration",
            name="pending_status",
            field=models.CharField(
                blank=True,
                choices=[("paused", "Paused"), ("active", "Active"), ("error", "Error")],
                default="",
                max_length=10,
            ),
        ),
        migrations.RunPython(to_names, to_numbers),
        migrations.RemoveIndex(model_name="integration", name="integration_listing"),
        migrations.RemoveField(model_name="integration", name="active"),
        migrations.RemoveField(model_name="integration", name="pending_active"),
        migrations.AddIndex(
            model_name="integration",
            index=models.Index(fields=["project", "deleted_at", "status"], name="integration_listing"),
        ),
    ]
