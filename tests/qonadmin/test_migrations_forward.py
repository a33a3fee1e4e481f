"""A database made by the previous release migrates to the latest schema with nothing lost.

The previous release had one app, `integrations`, at migration 0002: teams, members,
invitations, projects, integrations and the audit log all lived there. The test takes
the test database back to that schema, fills it with demo-like rows through the
historical models, migrates forward to whatever the latest migrations are, and reads
every row back through today's models.

Written to survive later migrations: rows are compared column by column for every
column the previous release had, found by name on today's models. A column that a later
migration replaced must be listed in REPLACED_COLUMNS with where its value went, and is
checked through what a user sees (the integration's state by its label).
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps as current_apps
from django.apps.registry import Apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

from audit.models import AuditEvent
from integrations.models import Integration
from teams import crypto
from teams.models import Project, Team, environment_of_key, mask_key

PREVIOUS_RELEASE = ("integrations", "0002_invitations_two_factor")
# Apps of this project that the previous release did not have: unapplied entirely.
NEWER_APPS = ("teams", "audit", "alerts", "accounts", "demo")

# Where each model of the previous release keeps its rows now.
MOVED = {
    "auth.User": "auth.User",
    "integrations.Team": "teams.Team",
    "integrations.Membership": "teams.Membership",
    "integrations.Invitation": "teams.Invitation",
    "integrations.Project": "teams.Project",
    "integrations.Integration": "integrations.Integration",
    "integrations.AuditEvent": "audit.AuditEvent",
}
# Columns of the previous release that a later migration replaced, and how the test
# checks their values instead. Add to this when a migration renames or reshapes one.
REPLACED_COLUMNS = {
    "integrations.Integration": {"active": "the state, by name (integrations 0005): checked by its label"},
}
STATE_LABELS = {0: "Paused", 1: "Active", 2: "Error"}  # the previous release's `active` values

KEYS = {"Acme iOS": "test_sk_acme_ios_1f2e3d4c", "Globex Web": "sk_globex_web_live_9a8b7c6d"}
T0 = datetime(2026, 10, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _targets(executor: MigrationExecutor) -> list[tuple[str, str | None]]:
    apps_with_migrations = {app for app, _ in executor.loader.graph.nodes}
    return [PREVIOUS_RELEASE, *((app, None) for app in NEWER_APPS if app in apps_with_migrations)]


def _previous_release_state(executor: MigrationExecutor) -> Apps:
    """Historical models as the previous release had them (other apps at their latest)."""
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in ("integrations", *NEWER_APPS)]
    return executor.loader.project_state([PREVIOUS_RELEASE, *others]).apps


def _migrate_to_latest(executor: MigrationExecutor) -> None:
    executor.loader.build_graph()  # what is applied now
    executor.migrate(executor.loader.graph.leaf_nodes())
    executor.loader.build_graph()


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    yield executor
    # Later tests need today's schema, whatever happened above.
    _migrate_to_latest(executor)
    ContentType.objects.clear_cache()


def _columns(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _rows(model: type[models.Model], columns: list[str]) -> dict[Any, dict[str, Any]]:
    return {row["id"]: row for row in model._default_manager.values(*columns)}


def _fill_previous_release(old: Apps) -> None:
    """Demo-like data, as the previous release's code would have written it."""
    User = old.get_model("auth", "User")
    Team = old.get_model("integrations", "Team")
    Membership = old.get_model("integrations", "Membership")
    Invitation = old.get_model("integrations", "Invitation")
    Project = old.get_model("integrations", "Project")
    Integration = old.get_model("integrations", "Integration")
    AuditEvent = old.get_model("integrations", "AuditEvent")

    users = {
        name: User.objects.create(username=name, email=f"{name}@example.test", password=f"md5$salt${name}")
        for name in ("olivia", "adam", "mia", "vic", "gus")
    }
    acme = Team.objects.create(name="Acme", slug="acme", created_at=T0)
    globex = Team.objects.create(name="Globex", slug="globex", created_at=T0, require_two_factor=True)
    for team, name, role in [
        (acme, "olivia", "owner"),
        (acme, "adam", "admin"),
        (acme, "mia", "member"),
        (acme, "vic", "viewer"),
        (globex, "gus", "owner"),
        (globex, "mia", "viewer"),
    ]:
        Membership.objects.create(team=team, user=users[name], role=role, created_at=T0)
    Invitation.objects.create(
        team=acme,
        email="new.admin@acme.test",
        role="admin",
        token_hash="5" * 64,
        created_at=T0,
        sent_at=T0,
        expires_at=T0 + timedelta(days=7),
        invited_by=users["olivia"],
    )

    projects = {}
    for team, name in [(acme, "Acme iOS"), (globex, "Globex Web")]:
        public_id = uuid.uuid4()
        projects[name] = Project.objects.create(
            team=team,
            name=name,
            public_id=public_id,
            secret_key_encrypted=crypto.encrypt(KEYS[name], associated_data=f"project:{public_id}:secret_key"),
            key_hint=mask_key(KEYS[name]),
            environment=environment_of_key(KEYS[name]),
            created_at=T0,
            synced_at=T0 + timedelta(minutes=5),
            sync_attempted_at=T0 + timedelta(minutes=5),
        )
    for project, title, active, deleted in [
        (projects["Acme iOS"], "Amplitude prod", 1, False),
        (projects["Acme iOS"], "Slack alerts", 0, False),
        (projects["Acme iOS"], "Webhook to billing", 2, False),
        (projects["Acme iOS"], "Old AppsFlyer", 1, True),
        (projects["Globex Web"], "Stripe to Mixpanel", 1, False),
    ]:
        Integration.objects.create(
            project=project,
            qonversion_id=f"int_{title.lower().replace(' ', '_')}",
            title=title,
            provider_slug="slack" if "Slack" in title else "",
            provider_name=title.split()[0],
            platform="Stripe" if "Stripe" in title else "iOS",
            active=active,
            last_error_at=T0 if active == 2 else None,
            last_error_message="HTTP 500 from https://billing.example.test/hook" if active == 2 else "",
            delivery_error_count=7 if active == 2 else 0,
            upstream_created_at=T0,
            upstream_updated_at=T0 + timedelta(hours=1),
            synced_at=T0 + timedelta(minutes=5),
            deleted_at=T0 + timedelta(days=1) if deleted else None,
            deleted_by=users["mia"] if deleted else None,
            created_by=users["adam"],
        )

    acme_ios = projects["Acme iOS"]
    for values in [
        {"action": "project.created", "actor": users["olivia"], "team": acme, "project": acme_ios},
        {"action": "integration.create", "actor": users["mia"], "team": acme, "project": acme_ios},
        {"action": "member.role_changed", "actor": users["olivia"], "team": acme, "target_repr": "adam"},
        {"action": "team.require_two_factor", "actor": users["gus"], "team": globex, "outcome": "failure"},
        {"action": "auth.sign_in", "actor": users["vic"], "ip": "203.0.113.9"},
        {"action": "auth.sign_in_failed", "actor_username": "nobody", "outcome": "failure"},
        # What the old rule left of a project deleted before: its name, no id.
        {"action": "project.deleted", "actor": users["olivia"], "team": acme, "project_name": "Acme Android"},
    ]:
        actor, project = values.get("actor"), values.get("project")
        recorded = {
            "created_at": T0 + timedelta(seconds=AuditEvent.objects.count()),
            "actor_username": actor.username if actor else "",
            "project_name": project.name if project else "",
            "outcome": "success",
            "target_type": "project" if project else "",
            "target_id": str(project.pk) if project else "",
            "detail": {"after": {"role": "admin"}, "note": "ünïcode"},
        }
        AuditEvent.objects.create(**{**recorded, **values})


def _snapshot(old: Apps) -> dict[str, tuple[list[str], dict[Any, dict[str, Any]]]]:
    """Per model of the previous release: its columns, and its rows by id."""
    snapshot = {}
    for label in MOVED:
        model = old.get_model(label)
        snapshot[label] = (_columns(model), _rows(model, _columns(model)))
    return snapshot


def _audit_table() -> tuple[set[str], set[str]]:
    """The audit table's columns, and the columns it holds foreign keys on."""
    table = "integrations_auditevent"
    with connection.cursor() as cursor:
        columns = {column.name for column in connection.introspection.get_table_description(cursor, table)}
        constraints = connection.introspection.get_constraints(cursor, table).values()
    return columns, {column for c in constraints if c["foreign_key"] for column in c["columns"]}


def _state_label(integration: models.Model) -> str:
    """An integration's state as a user reads it, whichever column holds it today."""
    field = "status" if "status" in {f.name for f in integration._meta.concrete_fields} else "active"
    return str(getattr(integration, f"get_{field}_display")())


@pytest.mark.django_db(transaction=True)
def test_a_previous_release_database_migrates_with_nothing_lost(executor: MigrationExecutor):
    targets = _targets(executor)
    executor.migrate(targets)
    old = _previous_release_state(executor)
    columns, foreign_keys = _audit_table()
    assert "team_name" not in columns and foreign_keys == {"actor_id", "team_id", "project_id"}
    content_types = old.get_model("contenttypes", "ContentType").objects
    old_content_types = {
        model: content_types.get_or_create(app_label="integrations", model=model)[0].pk
        for model in ("team", "membership", "invitation", "project", "auditevent", "integration")
    }
    _fill_previous_release(old)
    before = _snapshot(old)
    old_states = {pk: STATE_LABELS[row["active"]] for pk, row in before["integrations.Integration"][1].items()}

    _migrate_to_latest(executor)
    ContentType.objects.clear_cache()

    # Every row of every model, with every column the previous release had.
    for old_label, new_label in MOVED.items():
        model = current_apps.get_model(new_label)
        old_columns, old_rows = before[old_label]
        columns_now = set(_columns(model))
        replaced = REPLACED_COLUMNS.get(old_label, {})
        missing = [c for c in old_columns if c not in columns_now and c not in replaced]
        assert missing == [], f"{new_label} lost columns {missing}: list them in REPLACED_COLUMNS and check them"
        kept = [c for c in old_columns if c in columns_now]
        expected = {pk: {c: row[c] for c in kept} for pk, row in old_rows.items()}
        assert _rows(model, kept) == expected, new_label
    assert [len(before[label][1]) for label in MOVED] == [5, 2, 6, 1, 2, 5, 7]

    # Keys still decrypt: each value is bound to its row's public id.
    for project in Project.objects.all():
        assert project.secret_key() == KEYS[project.name]
        assert (project.upstream_failures, project.upstream_paused_until) == (0, None)

    # Integrations keep their state, as the project page labels it.
    assert {i.pk: _state_label(i) for i in Integration.objects.all()} == old_states
    assert sorted(old_states.values()) == ["Active", "Active", "Active", "Error", "Paused"]

    # The audit log: unchanged, and each row now names its team as well. Its ids are kept
    # as recorded, so no foreign key may remain to null them or refuse a deletion.
    columns, foreign_keys = _audit_table()
    assert "team_name" in columns and foreign_keys == set()
    team_names = {None: "", **dict(Team.objects.values_list("pk", "name"))}
    assert {e.pk: e.team_name for e in AuditEvent.objects.all()} == {
        pk: team_names[row["team_id"]] for pk, row in before["integrations.AuditEvent"][1].items()
    }

    # Permissions and admin history follow the models: same content type rows, new apps.
    moved_to = {"team": "teams", "membership": "teams", "invitation": "teams", "project": "teams"}
    moved_to |= {"auditevent": "audit", "integration": "integrations"}
    for model, pk in old_content_types.items():
        assert ContentType.objects.get(pk=pk).app_label == moved_to[model], model
    moved_away = [model for model, app in moved_to.items() if app != "integrations"]
    assert not ContentType.objects.filter(app_label="integrations", model__in=moved_away).exists()
