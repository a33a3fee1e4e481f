"""Audit rows keep what they recorded when a user, team or project is deleted.

The actor, team and project columns lose their database foreign keys (and with them
the ON DELETE SET NULL Django emulated): the ids stay as recorded. The team's name is
recorded beside its id, as the actor's and project's names already were; rows written
before this migration get it from the team table where the team still exists (rows of
teams deleted before now had their team set to NULL by the old rule and stay empty).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_team_names(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    Team = apps.get_model("teams", "Team")
    db = schema_editor.connection.alias
    # One UPDATE, however long the log: historical models have none of the append-only guards.
    AuditEvent.objects.using(db).filter(team_id__in=Team.objects.using(db).values("pk")).update(
        team_name=Subquery(Team.objects.using(db).filter(pk=OuterRef("team_id")).values("name")[:1])
    )


def forget_deleted_references(apps, schema_editor):
    """Going back to the old rule (foreign keys with ON DELETE SET NULL): ids of users,
    teams and projects deleted since cannot be kept under a foreign key, so they become
    NULL, as the old rule would have made them. The recorded names stay."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    Team = apps.get_model("teams", "Team")
    Project = apps.get_model("teams", "Project")
    db = schema_editor.connection.alias
    events = AuditEvent.objects.using(db)
    events.filter(actor_id__isnull=False).exclude(actor_id__in=User.objects.using(db).values("pk")).update(actor_id=None)
    events.filter(team_id__isnull=False).exclude(team_id__in=Team.objects.using(db).values("pk")).update(team_id=None)
    events.filter(project_id__isnull=False).exclude(
        project_id__in=Project.objects.using(db).values("pk")
    ).update(project_id=None)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
        ('integrations', '0004_teams_and_audit_move_out'),
        ('teams', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The foreign keys go before any row is written, so no deferred constraint check is
    # pending when PostgreSQL alters the table (going back, rows are written while the
    # table has no foreign keys, and they are added after).
    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='team',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='teams.team'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='project',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='teams.project'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='team_name',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.RunPython(fill_team_names, forget_deleted_references, elidable=False),
    ]
