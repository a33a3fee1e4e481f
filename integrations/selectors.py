"""Read-side queries. Each takes an object already resolved through access.py, so
the queryset it returns is scoped to what the user may see."""

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from integrations.filters import STATUS_CHOICES, IntegrationFilters
from integrations.history import error_since
from integrations.models import Integration, Status
from teams.models import Project, Team

# Error first, then Active, then Paused; within each, most delivery errors.
BROKEN_RANK = Case(
    When(status=Status.ERROR, then=Value(0)),
    When(status=Status.ACTIVE, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
BROKEN_FIRST = (BROKEN_RANK.asc(), "-delivery_error_count", "title", "pk")


# The team page lists at most this many of the integrations in Error now; the others are
# counted ("and N more") from the projects' counts, without a query of their own.
IN_ERROR_SHOWN = 50


def projects_with_health(team: Team) -> QuerySet[Project]:
    """The team's projects with per-status counts, in one query whatever their number."""
    live = Q(integrations__deleted_at__isnull=True)
    return Project.objects.filter(team=team).annotate(
        active_count=Count("integrations", filter=live & Q(integrations__status=Status.ACTIVE)),
        paused_count=Count("integrations", filter=live & Q(integrations__status=Status.PAUSED)),
        error_count=Count("integrations", filter=live & Q(integrations__status=Status.ERROR)),
        delivery_errors=Coalesce(Sum("integrations__delivery_error_count", filter=live), Value(0)),
    )


def live_integrations(project: Project) -> QuerySet[Integration]:
    """Not deleted, broken ones first."""
    return Integration.objects.filter(project=project, deleted_at__isnull=True).order_by(*BROKEN_FIRST)


def _narrowed(project: Project, filters: IntegrationFilters) -> QuerySet[Integration]:
    """Every filter but status."""
    queryset = Integration.objects.filter(project=project)
    if filters.platform:
        queryset = queryset.filter(platform=filters.platform)
    if filters.provider:
        queryset = queryset.filter(provider_name=filters.provider)
    if filters.q:
        queryset = queryset.filter(title__icontains=filters.q)
    return queryset


def filtered_integrations(project: Project, filters: IntegrationFilters) -> QuerySet[Integration]:
    """The list, each row with `error_since` (integrations/history.py) in the same query."""
    queryset = _narrowed(project, filters).annotate(error_since=error_since())
    if filters.showing_deleted:
        return queryset.filter(deleted_at__isnull=False).select_related("deleted_by").order_by("-deleted_at", "pk")
    queryset = queryset.filter(deleted_at__isnull=True)
    status = STATUS_CHOICES[filters.status]
    if status is not None:
        queryset = queryset.filter(status=status)
    return queryset.order_by(*BROKEN_FIRST)


def integrations_in_error(team: Team, *, limit: int = IN_ERROR_SHOWN) -> QuerySet[Integration]:
    """The team's integrations in Error now, most recently broken first, each with
    `error_since` and its project, in one query."""
    return (
        Integration.objects.filter(project__team=team, status=Status.ERROR, deleted_at__isnull=True)
        .annotate(error_since=error_since())
        .select_related("project")
        .order_by(F("error_since").desc(nulls_last=True), F("last_error_at").desc(nulls_last=True), "title", "pk")[
            :limit
        ]
    )


def status_counts(project: Project, filters: IntegrationFilters) -> dict[str, int]:
    """Counts for the status chips, under the other filters, in one query."""
    live = Q(deleted_at__isnull=True)
    counts = _narrowed(project, filters).aggregate(
        n_all=Count("pk", filter=live),
        n_error=Count("pk", filter=live & Q(status=Status.ERROR)),
        n_active=Count("pk", filter=live & Q(status=Status.ACTIVE)),
        n_paused=Count("pk", filter=live & Q(status=Status.PAUSED)),
        n_deleted=Count("pk", filter=Q(deleted_at__isnull=False)),
    )
    # Aggregate names may not shadow fields ("status"), hence the n_ prefix.
    return {name.removeprefix("n_"): value or 0 for name, value in counts.items()}


def provider_names(project: Project) -> list[str]:
    """Providers that occur in this project, for the provider filter."""
    return list(
        Integration.objects.filter(project=project)
        .order_by("provider_name")
        .values_list("provider_name", flat=True)
        .distinct()
    )


def integrations_by_ids(project: Project, ids: list[int]) -> QuerySet[Integration]:
    """The live integrations of this project among `ids`; ids of other projects drop out."""
    return Integration.objects.filter(project=project, pk__in=ids, deleted_at__isnull=True).order_by(*BROKEN_FIRST)
