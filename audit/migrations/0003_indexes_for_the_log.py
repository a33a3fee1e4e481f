"""Indexes for the audit log at any size: the team's events by time, and by time within
one action, actor name or project name; members' personal events (no team) by actor and
action and time. See audit/selectors.py for the queries they serve."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_keep_recorded_ids_and_team_name'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(models.F('team'), models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), name='audit_team_time'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(models.F('team'), models.F('action'), models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), name='audit_team_action_time'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(models.F('team'), django.db.models.functions.text.Upper('actor_username'), models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), name='audit_team_actor_time'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(models.F('team'), models.F('project_name'), models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), name='audit_team_project_time'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(models.F('actor'), models.F('action'), models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), condition=models.Q(('team__isnull', True)), name='audit_personal_time'),
        ),
    ]
