"""History kept before each change carried its own errors gets them worked out once, by
the same rule the sync uses, so the sparklines of old history do not change."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations.mirror import errors_added
from teams import crypto

BEFORE = [("integrations", "0008_bulk_jobs")]
AFTER = [("integrations", "0009_lists_at_any_size")]
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_old_history_gets_the_errors_each_change_added(executor: MigrationExecutor):
    old = executor.loader.project_state(BEFORE).apps
    team = old.get_model("teams", "Team").objects.create(name="Acme", slug="acme")
    project_model = old.get_model("teams", "Project")
    project = project_model.objects.create(team=team, name="Acme iOS", key_hint="sk_…", environment="sandbox")
    project.secret_key_encrypted = crypto.encrypt(
        "test_sk_x", associated_data=f"project:{project.public_id}:secret_key"
    )
    project.save()
    integration_model = old.get_model("integrations", "Integration")
    change_model = old.get_model("integrations", "IntegrationChange")
    counts = {"first": [3, 5, 5, 2, 0, 4], "second": [0, 7]}
    for title, series in counts.items():
        integration = integration_model.objects.create(
            project=project,
            qonversion_id=title,
            title=title,
            provider_name="Slack",
            platform="iOS",
            status="error",
            upstream_created_at=T0,
            upstream_updated_at=T0,
        )
        # Written newest first: the migration must go by time, not by id.
        for hour, count in reversed(list(enumerate(series))):
            change_model.objects.create(
                integration=integration, at=T0 + timedelta(hours=hour), status="error", delivery_error_count=count
            )

    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    change_model = new.get_model("integrations", "IntegrationChange")
    for title, series in counts.items():
        added = list(
            change_model.objects.filter(integration__qonversion_id=title)
            .order_by("at")
            .values_list("errors_added", flat=True)
        )
        expected = [errors_added(None if n == 0 else series[n - 1], count) for n, count in enumerate(series)]
        assert added == expected
    assert expected == [0, 7]  # the second: nothing for the first count seen
    first = list(change_model.objects.filter(integration__qonversion_id="first").order_by("at"))
    assert [c.errors_added for c in first] == [0, 2, 0, 2, 0, 4]
