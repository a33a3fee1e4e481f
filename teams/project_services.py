"""Writes for projects: add one with its key, replace the key, remove it. Audited.

A key is checked against Qonversion before it is stored, so a typo or a revoked key
is caught at the door, not at the first sync.
"""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from audit import services as audit
from audit.models import Outcome
from integrations.clients import client_for_key
from integrations.explain import explain
from integrations.qonversion import QonversionAuthError, QonversionError
from qonadmin.errors import ServiceError
from teams.models import Project, Team, environment_of_key, mask_key


def record_for_project(
    project: Project,
    *,
    action: str,
    actor: User | None,
    outcome: Outcome,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """An audit event about one project (it names the project by id and name)."""
    audit.record(
        action=action,
        actor=actor,
        outcome=outcome,
        project=project,
        target_type="project",
        target_id=str(project.pk),
        target_repr=project.name,
        detail=detail,
        ip=ip,
    )


def _key_facts(project: Project) -> dict[str, str]:
    """What the audit log may say about a key: its masked hint and environment, never more."""
    return {"key_hint": project.key_hint, "environment": project.environment}


class ProjectError(ServiceError):
    """A project change that cannot be made; the message is for the person at the screen,
    `field` the form field it belongs under."""

    def __init__(self, message: str, *, field: str = "name") -> None:
        super().__init__(message)
        self.field = field


def _key_problem(error: QonversionError) -> str:
    if isinstance(error, QonversionAuthError):
        return f"Qonversion rejected this key ({error.status} {error.code}). Check that it is the project's secret key."
    return explain(error, outcome="Nothing was saved", write=False) + " Enter the key again."


@sensitive_variables("secret_key")
def verify_key(secret_key: str) -> None:
    """One cheap authenticated call (the provider catalog). Raises QonversionError."""
    client_for_key(secret_key).get_meta()


@sensitive_variables("secret_key")
def project_create(*, team: Team, actor: User, name: str, secret_key: str, ip: str | None = None) -> Project:
    if Project.objects.filter(team=team, name__iexact=name).exists():
        raise ProjectError(f"{team.name} already has a project called “{name}”.")
    try:
        verify_key(secret_key)
    except QonversionError as error:
        audit.record(
            action="project.create",
            actor=actor,
            outcome=Outcome.FAILURE,
            team=team,
            target_type="project",
            target_repr=name,
            detail={"key_hint": mask_key(secret_key), "upstream": error.as_dict()},
            ip=ip,
        )
        raise ProjectError(_key_problem(error), field="secret_key") from error
    with transaction.atomic():
        project = Project(team=team, name=name)
        project.set_secret_key(secret_key)
        project.save()
        record_for_project(
            project,
            action="project.create",
            actor=actor,
            outcome=Outcome.SUCCESS,
            detail={"after": _key_facts(project)},
            ip=ip,
        )
    return project


@sensitive_variables("secret_key")
def project_replace_key(*, project: Project, actor: User, secret_key: str, ip: str | None = None) -> Project:
    before = _key_facts(project)
    try:
        verify_key(secret_key)
    except QonversionError as error:
        record_for_project(
            project,
            action="project.key_replaced",
            actor=actor,
            outcome=Outcome.FAILURE,
            detail={"before": before, "attempted": {"key_hint": mask_key(secret_key)}, "upstream": error.as_dict()},
            ip=ip,
        )
        raise ProjectError(_key_problem(error), field="secret_key") from error
    changes_environment = environment_of_key(secret_key) != project.environment
    with transaction.atomic():
        project.set_secret_key(secret_key)
        if changes_environment:
            # Another environment is another data set: the mirror must be rebuilt.
            project.integrations.all().delete()
            project.synced_at = None
        project.save()
        record_for_project(
            project,
            action="project.key_replaced",
            actor=actor,
            outcome=Outcome.SUCCESS,
            detail={"before": before, "after": _key_facts(project)},
            ip=ip,
        )
    return project


def project_delete(*, project: Project, actor: User, ip: str | None = None) -> None:
    """Remove the project and its local mirror; its audit history stays (rows keep its id and name)."""
    with transaction.atomic():
        record_for_project(
            project,
            action="project.deleted",
            actor=actor,
            outcome=Outcome.SUCCESS,
            detail={"before": _key_facts(project)},
            ip=ip,
        )
        project.delete()


def team_delete(*, team: Team, actor: User, ip: str | None = None) -> None:
    """Delete the team with its projects and memberships. Qonversion is not touched."""
    with transaction.atomic():
        audit.record(
            action="team.deleted",
            actor=actor,
            outcome=Outcome.SUCCESS,
            team=team,
            target_type="team",
            target_id=str(team.pk),
            target_repr=team.name,
            detail={"projects": list(team.projects.values_list("name", flat=True))},
            ip=ip,
        )
        team.delete()
