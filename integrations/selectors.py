"""Read-side queries. Each takes an object already resolved through access.py, so
the queryset it returns is scoped to what the user may see."""

from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from integrations.filters import STATUS_CHOICES, IntegrationFilters
from integrations.history import error_since
from integrations.models import Integration, Status
from teams.models import Project, Team

# Error first, then Active, then Paused; within each, most delivery errors. The index
# integration_broken_first has these columns in this order.
BROKEN_FIRST = ("broken_rank", "-delivery_error_count", "title", "pk")


# The team page lists at most this many of the integrations in Error now; the others are
# counted ("and N more") by `in_error_count`, which reads the index alone.
IN_ERROR_SHOWN = 50


def projects_with_health(projects: QuerySet[Project]) -> QuerySet[Project]:
    """`projects` (one page of `team_projects`) with per-status counts, in their order, in
    one query: the counts are taken over these projects' integrations only, so a page of
    25 costs the same in a team of 2 projects as in one of 2,000."""
    live = Q(integrations__deleted_at__isnull=True)
    return (
        Project.objects.filter(pk__in=projects.values("pk"))
        .annotate(
            active_count=Count("integrations", filter=live & Q(integrations__status=Status.ACTIVE)),
            paused_count=Count("integrations", filter=live & Q(integrations__status=Status.PAUSED)),
            error_count=Count("integrations", filter=live & Q(integrations__status=Status.ERROR)),
            delivery_errors=Coalesce(Sum("integrations__delivery_error_count", filter=live), Value(0)),
        )
        .order_by(*TEAM_PROJECT_ORDER)
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


def integrations_in_error(team: Team, *, limit: int = IN_ERROR_SHOWN) -> QuerySet[Integration, dict[str, Any]]:
    """At most `limit` of the team's integrations in Error now, latest failed delivery first,
    in one query: what the team page shows of each (IN_ERROR_FIELDS, with `error_since` and
    `project_name`). The rows are chosen by a subquery first and `error_since` is computed
    for those alone: ordering by it instead would run its subquery for every integration
    in Error in the team before keeping 50."""
    shown = _in_error(team).order_by(*IN_ERROR_ORDER).values("pk")[:limit]
    rows: QuerySet[Integration, dict[str, Any]] = (
        Integration.objects.filter(pk__in=shown)
        .annotate(error_since=error_since(), project_name=F("project__name"))
        .order_by(*IN_ERROR_ORDER)
        .values(*IN_ERROR_FIELDS)
    )
    return rows


_CHIP_KEYS = ("all", "error", "active", "paused", "deleted")
_LIVE = ExpressionWrapper(Q(deleted_at__isnull=True), output_field=BooleanField())


def _add_count(counts: dict[str, int], status: str, live: bool, count: int) -> None:
    if live:
        counts[status] = counts.get(status, 0) + count
        counts["all"] += count
    else:
        counts["deleted"] += count


def status_counts(project: Project, filters: IntegrationFilters) -> dict[str, int]:
    """Counts for the status chips, under the other filters, in one grouped query on
    the index integration_facets (project, deleted_at, status, …)."""
    counts = dict.fromkeys(_CHIP_KEYS, 0)
    grouped = _narrowed(project, filters).values_list("status", _LIVE).annotate(count=Count("pk")).order_by()
    for status, live, count in grouped:
        _add_count(counts, status, live, count)
    return counts


@dataclass(frozen=True)
class Facets:
    """A project's integrations counted by status, live or deleted, provider and platform:
    what the whole page's filter bar and chips need, in one grouped query."""

    groups: list[tuple[str, bool, str, str, int]]  # status, live, provider, platform, count

    @property
    def providers(self) -> list[str]:
        """Providers that occur in this project, for the provider filter."""
        return sorted({provider for _, _, provider, _, _ in self.groups})

    def counts(self, filters: IntegrationFilters) -> dict[str, int] | None:
        """The chips' counts under `filters`, as `status_counts` gives them; None when
        they need the title search, which counts by group cannot answer."""
        if filters.q:
            return None
        counts = dict.fromkeys(_CHIP_KEYS, 0)
        for status, live, provider, platform, count in self.groups:
            if (not filters.platform or platform == filters.platform) and (
                not filters.provider or provider == filters.provider
            ):
                _add_count(counts, status, live, count)
        return counts


def project_facets(project: Project) -> Facets:
    grouped = (
        Integration.objects.filter(project=project)
        .values_list("status", _LIVE, "provider_name", "platform")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return Facets(groups=list(grouped))


def integrations_by_ids(project: Project, ids: list[int]) -> QuerySet[Integration]:
    """The live integrations of this project among `ids`; ids of other projects drop out."""
    return Integration.objects.filter(project=project, pk__in=ids, deleted_at__isnull=True).order_by(*BROKEN_FIRST)


# ---- the team overview ------------------------------------------------------------------

# The project table's order: by name (unique in a team; pk only makes the order total, so
# pages never overlap).
TEAM_PROJECT_ORDER = ("name", "pk")

# "In error now": latest failed delivery first (Qonversion's last_error_at, a column of the
# row, so choosing 50 needs no subquery per row); rows without one last; ties by title.
IN_ERROR_ORDER = (F("last_error_at").desc(nulls_last=True), "title", "pk")
# What its list shows of each, as dicts: 50 integrations and their projects as model
# instances, every field loaded and each datetime parsed, were a good part of the page's cost.
IN_ERROR_FIELDS = ("pk", "title", "project_id", "project_name", "last_error_message", "error_since")


def team_projects(team: Team) -> QuerySet[Project]:
    """The team's projects in the overview's order, without counts (slice it, count it)."""
    return Project.objects.filter(team=team).order_by(*TEAM_PROJECT_ORDER)


def _in_error(team: Team) -> QuerySet[Integration]:
    """The team's live integrations in Error now: the index `integration_facets`
    (project, deleted_at, status) finds them project by project."""
    return Integration.objects.filter(project__team=team, status=Status.ERROR, deleted_at__isnull=True)


def in_error_count(team: Team) -> int:
    """How many of the team's integrations are in Error now: a COUNT the index answers."""
    return _in_error(team).count()
