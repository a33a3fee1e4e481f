"""Status badges, integration links and health over time, the same on every page."""

from datetime import UTC, datetime

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from integrations import history
from integrations.history import ErrorSeries, IntegrationHealth, RowHealth, Staleness
from integrations.models import Integration, Status
from teams.models import Project

register = template.Library()

# Status is never colour alone: each badge has its word, its colour and its shape.
_ICONS = {
    Status.ACTIVE: '<circle cx="8" cy="8" r="5" fill="currentColor"/>',
    Status.PAUSED: '<rect x="4" y="3" width="3" height="10" fill="currentColor"/>'
    '<rect x="9" y="3" width="3" height="10" fill="currentColor"/>',
    Status.ERROR: '<path d="M4 4l8 8M12 4l-8 8" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/>',
}


@register.simple_tag
def status_icon(value: str) -> SafeString:
    status = Status(value)
    return mark_safe(  # noqa: S308 - fixed markup from _ICONS, no user input
        f'<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 16 16">{_ICONS[status]}</svg>'
    )


@register.simple_tag
def status_badge(value: str) -> SafeString:
    status = Status(value)
    return format_html(
        '<span class="badge badge-{}" data-status="{}">{}<span class="badge-label">{}</span></span>',
        status.label.lower(),
        status.label.lower(),
        status_icon(value),
        status.label,
    )


@register.simple_tag(takes_context=True)
def integration_url(context: template.Context, integration: Integration, action: str = "") -> str:
    """The URL of an integration page or action, e.g. {% integration_url integration "status" %}.

    Same result as {% url %}, but reverses once per project and render: a long list
    would otherwise spend much of its time in reverse() (bench/README.md)."""
    # django-stubs types render_context for the template loader's own entries only.
    cache = context.render_context.setdefault("integration_url_prefixes", {})  # type: ignore[arg-type]
    prefixes: dict[int, str] = cache  # type: ignore[assignment]
    prefix = prefixes.get(integration.project_id)
    if prefix is None:
        sample = reverse("integration_detail", kwargs={"project_id": integration.project_id, "integration_id": 0})
        prefix = prefixes[integration.project_id] = sample.removesuffix("0/")
    return f"{prefix}{integration.pk}/{action}/" if action else f"{prefix}{integration.pk}/"


# ---- health over time -------------------------------------------------------------------

_SPARK_HEIGHT = 20
_SPARK_WIDTH = 96


@register.simple_tag
def sparkline(series: object) -> SafeString:
    """Delivery errors per bucket as an inline SVG bar chart, with its numbers in words
    for screen readers (aria-label, <title>, <desc>) and the total beside it as text, so
    it reads without colour. Only SVG attributes and classes: the CSP forbids inline
    styles. Every value is a number or our own text, escaped all the same. Anything but
    a series (a row without health in its context) draws nothing."""
    if not isinstance(series, ErrorSeries) or not series.counts:
        return SafeString("")
    slot = _SPARK_WIDTH / len(series.counts)
    gap = 1 if slot >= 3 else 0
    usable = _SPARK_HEIGHT - 2
    bars = []
    for index, count in enumerate(series.counts):
        height = max(2, round(count / series.peak * usable)) if count else 1
        bars.append(
            (
                "spark-bar" if count else "spark-zero",
                f"{index * slot:g}",
                f"{_SPARK_HEIGHT - height:g}",
                f"{slot - gap:g}",
                f"{height:g}",
            )
        )
    return format_html(
        '<span class="spark{}" data-window="{}">'
        '<svg class="sparkline" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}"'
        ' preserveAspectRatio="none" focusable="false"><title>{}</title><desc>{}</desc>{}</svg>'
        '<span class="spark-total" aria-hidden="true">{} in {}</span></span>',
        " spark-errors" if series.total else "",
        series.window.label,
        series.summary,
        _SPARK_WIDTH,
        _SPARK_HEIGHT,
        _SPARK_WIDTH,
        _SPARK_HEIGHT,
        series.summary,
        series.per_bucket,
        format_html_join("", '<rect class="{}" x="{}" y="{}" width="{}" height="{}"/>', bars),
        series.total,
        series.window.label,
    )


@register.simple_tag(takes_context=True)
def row_health(context: template.Context, integration: Integration) -> RowHealth | None:
    """This row's health from the list's context (fragments.py builds it for all rows at
    once); None where a page did not ask for it."""
    health = context.get("row_health")
    return health.get(integration.pk) if isinstance(health, dict) else None


@register.simple_tag
def integration_health(integration: Integration) -> IntegrationHealth:
    """Both sparklines and the timeline of one integration, for its details row (which
    may run queries of its own; the list never calls this)."""
    return history.integration_health(integration)


@register.filter
def staleness(project: Project) -> Staleness | None:
    """Whether the project's list is stale, and why (integrations/history.py)."""
    return history.staleness(project)


@register.filter
def clock_time(value: datetime | None) -> SafeString:
    """The exact time, short: "12:03 UTC" today (UTC), "3 Mar 12:03 UTC" before, in full on hover."""
    if value is None:
        return SafeString("")
    utc = value.astimezone(UTC)
    same_day = utc.date() == timezone.now().astimezone(UTC).date()
    short = f"{utc:%H:%M} UTC" if same_day else f"{utc.day} {utc:%b %H:%M} UTC"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
        short,
    )
