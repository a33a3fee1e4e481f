"""Read-side queries. Each takes an object already resolved through access.py, so
the queryset it returns is scoped to what the user may see."""

from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from integrations.models import Integration, Project, Status, Team


def projects_with_health(team: Team) -> QuerySet[Project]:
    """The team's projects with per-status counts, in one query whatever their number."""
    live = Q(integrations__deleted_at__isnull=True)
    return Project.objects.filter(team=team).annotate(
        active_count=Count("integrations", filter=live & Q(integrations__active=Status.ACTIVE)),
        paused_count=Count("integrations", filter=live & Q(integrations__active=Status.PAUSED)),
        error_count=Count("integrations", filter=live & Q(integrations__active=Status.ERROR)),
        delivery_errors=Coalesce(Sum("integrations__delivery_error_count", filter=live), Value(0)),
    )


def live_integrations(project: Project) -> QuerySet[Integration]:
    """Not deleted, broken ones first: Error, then most delivery errors, then title."""
    return Integration.objects.filter(project=project, deleted_at__isnull=True).order_by(
        # Error (2) first, then Active (1), then Paused (0).
        "-active",
        "-delivery_error_count",
        "title",
        "pk",
    )
