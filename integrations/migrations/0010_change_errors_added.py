"""Each history row keeps the delivery errors it added, worked out here once for the
rows already kept, by the rule of integrations/mirror.py `errors_added` (copied: a
migration must not change when that code does)."""

from django.db import migrations, models

BATCH = 1000


def _added(previous: int | None, count: int) -> int:
    if previous is None:
        return 0
    return count - previous if count >= previous else count


def fill_errors_added(apps, schema_editor):
    change_model = apps.get_model("integrations", "IntegrationChange")
    current, previous = None, None  # rows come integration by integration, oldest first
    pending = []
    rows = change_model.objects.order_by("integration_id", "at", "pk").only(
        "pk", "integration_id", "delivery_error_count"
    )
    for change in rows.iterator(chunk_size=BATCH):
        if change.integration_id != current:
            current, previous = change.integration_id, None
        added = _added(previous, change.delivery_error_count)
        previous = change.delivery_error_count
        if added:
            change.errors_added = added
            pending.append(change)
        if len(pending) >= BATCH:
            change_model.objects.bulk_update(pending, ["errors_added"])
            pending = []
    if pending:
        change_model.objects.bulk_update(pending, ["errors_added"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0009_list_order_by_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="integrationchange",
            name="errors_added",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(fill_errors_added, migrations.RunPython.noop),
    ]
