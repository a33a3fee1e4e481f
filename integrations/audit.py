"""Writing audit events. Every service that changes something calls `record`."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from integrations.log_redaction import redact, redact_value
from integrations.models import AuditEvent, Integration, Outcome, Project, Team


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
        project=project,
        project_name=project.name if project is not None else "",
        target_type=target_type,
        target_id=target_id,
        target_repr=redact(target_repr)[:255],
        detail=redact_value(detail or {}),
        ip=ip,
    )


def record_for_integration(
    integration: Integration,
    *,
    action: str,
    actor: User | AnonymousUser | None,
    outcome: Outcome,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """An event about one integration, found later by its Qonversion id (its history)."""
    return record(
        action=action,
        actor=actor,
        outcome=outcome,
        project=integration.project,
        target_type="integration",
        target_id=integration.qonversion_id,
        target_repr=integration.title,
        detail=detail,
        ip=ip,
    )
