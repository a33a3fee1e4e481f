"""Audit events about one integration, tied to it by its Qonversion id (its history)."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from audit.models import AuditEvent, Outcome
from audit.services import record
from integrations.models import Integration


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


def integration_history(integration: Integration, *, limit: int = 50) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        project_id=integration.project_id, target_type="integration", target_id=integration.qonversion_id
    ).order_by("-created_at", "-pk")[:limit]
