"""Lists that cost the same at any size (bench/README.md): the list's order as a stored
column with an index in that order, an index the chips and filters read alone, and each
history row with the delivery errors it added — worked out here once for the rows already
kept, by the rule of integrations/mirror.py `errors_added` (copied: a migration must not
change when that code does)."""

from django.conf import settings
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
        ('integrations', '0008_bulk_jobs'),
        ('teams', '0002_scheduled_syncs'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='integration',
            name='integration_listing',
        ),
        migrations.AddField(
            model_name='integration',
            name='broken_rank',
            field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(status='error', then=models.Value(0)), models.When(status='active', then=models.Value(1)), default=models.Value(2)), output_field=models.PositiveSmallIntegerField()),
        ),
        migrations.AddField(
            model_name='integrationchange',
            name='errors_added',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name='integration',
            index=models.Index(fields=['project', 'deleted_at', 'status', 'provider_name', 'platform'], name='integration_facets'),
        ),
        migrations.AddIndex(
            model_name='integration',
            index=models.Index(fields=['project', 'deleted_at', 'broken_rank', '-delivery_error_count', 'title', 'id'], name='integration_broken_first'),
        ),
        migrations.RunPython(fill_errors_added, migrations.RunPython.noop),
    ]
