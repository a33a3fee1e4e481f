"""Writing audit events. Every service that changes something calls `record`."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from audit.models import AuditEvent, Outcome
from qonadmin.redaction import redact, redact_value
from teams.models import Project, Team


def record(
    *,
    action: str,
    actor: User | AnonymousUser | None,
    outcome: Outcome,
    team: Team | None = None,
    project: Project | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    if project is not None and team is None:
        team = project.team
    user = actor if actor is not None and actor.is_authenticated else None
    # Details hold text from forms and from Qonversion, which may echo a secret key.
    return AuditEvent.objects.create(
        action=action,
        actor=user,
        actor_username=user.get_username() if user is not None else "",
        outcome=outcome,
        team=team,
        team_name=team.name if team is not None else "",
        project=project,
        project_name=project.name if project is not None else "",
        target_type=target_type,
        target_id=target_id,
        target_repr=redact(target_repr)[:255],
        detail=redact_value(detail or {}),
        ip=ip,
    )
