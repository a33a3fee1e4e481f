"""Status badges, integration links and health over time, the same on every page."""

from datetime import UTC, datetime
from functools import lru_cache

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

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
    styles. Anything but a series (a row without health in its context) draws nothing."""
    if not isinstance(series, ErrorSeries) or not series.counts:
        return SafeString("")
    return _sparkline_markup(series)


@lru_cache(maxsize=1024)
def _sparkline_markup(series: ErrorSeries) -> SafeString:
    """The markup of one series. Rows share few distinct series (most are all zeros), so
    a list draws each once; the bars are numbers and fixed class names, built without
    per-value escaping (bench/README.md: escaping them was most of a row's cost). The
    texts are escaped once each."""
    slot = _SPARK_WIDTH / len(series.counts)
    gap = 1 if slot >= 3 else 0
    usable = _SPARK_HEIGHT - 2
    bars = []
    for index, count in enumerate(series.counts):
        height = max(2, round(count / series.peak * usable)) if count else 1
        bars.append(
            f'<rect class="{"spark-bar" if count else "spark-zero"}" x="{index * slot:g}"'
            f' y="{_SPARK_HEIGHT - height:g}" width="{slot - gap:g}" height="{height:g}"/>'
        )
    summary = escape(series.summary)
    label = escape(series.window.label)
    return mark_safe(  # noqa: S308 - numbers, fixed classes and the escaped texts above
        f'<span class="spark{" spark-errors" if series.total else ""}" data-window="{label}">'
        f'<svg class="sparkline" role="img" aria-label="{summary}" viewBox="0 0 {_SPARK_WIDTH} {_SPARK_HEIGHT}"'
        f' width="{_SPARK_WIDTH}" height="{_SPARK_HEIGHT}" preserveAspectRatio="none" focusable="false">'
        f"<title>{summary}</title><desc>{escape(series.per_bucket)}</desc>{''.join(bars)}</svg>"
        f'<span class="spark-total" aria-hidden="true">{series.total:d} in {label}</span></span>'
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


# ---- one row of the project page's list ------------------------------------------------

_COUNT_TITLE = "Delivery errors since the last successful delivery"
_PAUSE = (
    '<input type="hidden" name="status" value="paused"><button type="submit" class="secondary small">Pause</button>'
)
_ACTIVATE = '<input type="hidden" name="status" value="active"><button type="submit" class="small">Activate</button>'


@lru_cache(maxsize=8)
def _badge(status: str) -> SafeString:
    return status_badge(status)


def _reltime(value: datetime | None, empty: str = "never") -> str:
    """qonadmin's `reltime` markup, built with one f-string (a row has up to four)."""
    if value is None:
        return f'<span class="muted">{escape(empty)}</span>' if empty else '<span class="muted"></span>'
    utc = value.astimezone(UTC) if timezone.is_aware(value) else value
    return (
        f'<time datetime="{utc:%Y-%m-%dT%H:%M:%SZ}" title="{utc:%Y-%m-%d %H:%M:%S} UTC">'
        f"{escape(naturaltime(value))}</time>"
    )


def _per_render(context: template.Context) -> tuple[str, str]:
    """What every row's forms share, worked out once per render: the CSRF field and the
    page to come back to without JavaScript."""
    # django-stubs types render_context for the template loader's own entries only.
    found = context.render_context.setdefault("integration_row_shared", {})  # type: ignore[arg-type]
    cache: dict[str, tuple[str, str]] = found  # type: ignore[assignment]
    shared = cache.get("shared")
    if shared is None:
        token = context.get("csrf_token")
        csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(str(token))}">' if token else ""
        request = context.get("request")
        back = escape(request.get_full_path()) if request is not None else ""
        shared = cache["shared"] = (csrf, back)
    return shared


@register.simple_tag(takes_context=True)
def integration_row(context: template.Context, integration: Integration) -> SafeString:
    """One row of the integration list (templates/integrations/project/list.html#row).

    Written out in Python rather than as template markup: a page of rows spent most of
    its time in the template engine resolving some sixty variables a row (bench/README.md,
    "Project page against Django admin"). Every value from the database or Qonversion is
    escaped; the URLs come from `integration_url` (one reverse() per project and render)."""
    access = context.get("access")
    can_operate = bool(getattr(access, "can_operate", False))
    health = row_health(context, integration)
    new = context.get("new_integration")
    deleted = integration.is_deleted
    pk = integration.pk
    title = escape(integration.title)
    detail_url = integration_url(context, integration)
    just_created = ' class="just-created"' if new is not None and getattr(new, "pk", None) == pk else ""
    out = [
        f'<tr id="integration-{pk}" data-qonversion-id="{escape(integration.qonversion_id)}"'
        f' data-status="{escape(integration.status)}"'
        f"{just_created}>"
    ]
    if can_operate and not deleted:
        out.append(
            f'<td class="select"><input type="checkbox" name="ids" value="{pk}" form="bulk-form"'
            f' aria-label="Select {title}"></td>'
        )
    out.append(f"<td>{_badge(integration.status)}")
    if integration.status == Status.ERROR and not deleted:
        since = health.error_since if health is not None else None
        when = f" since {clock_time(since)} ({_reltime(since)})" if since else ""
        out.append(f'<small class="error-since">in Error{when}</small>')
    out.append(
        f'</td><td class="title"><a href="{detail_url}" hx-get="{detail_url}"'
        f' hx-target="closest tr" hx-swap="afterend" data-details-toggle="details-{pk}"\n'
        f'               aria-expanded="false" aria-controls="details-{pk}">{title}</a>'
    )
    if integration.pending_status and not deleted:
        pending = escape(integration.get_pending_status_display().lower())
        out.append(
            '<p class="row-pending" role="status"><span aria-hidden="true">⏳</span> Waiting for Qonversion to confirm:'
            f" {pending} (asked {_reltime(integration.pending_since)})</p>"
        )
    row_error = context.get("row_error")
    if row_error:
        out.append(f'<p class="row-error" role="alert">{escape(row_error)}</p>')
    out.append(
        f"</td><td>{escape(integration.provider_name)}</td><td>{escape(integration.platform)}</td>"
        f'<td class="spark-cell"><span class="error-count" title="{_COUNT_TITLE}">'
        f"{integration.delivery_error_count}</span>\n"
        f"{sparkline(health.last_24h) if health is not None else ''}</td>"
        f'<td>{_reltime(integration.last_delivery_at)}</td><td class="last-error">'
    )
    if integration.last_error_message:
        text = integration.last_error_message
        message = escape(text if len(text) <= 80 else Truncator(text).chars(80))
        out.append(
            f'<span class="error-message">{message}</span> '
            f'<small class="muted">{_reltime(integration.last_error_at, "")}</small>'
        )
    else:
        out.append('<span class="muted">—</span>')
    out.append('</td><td class="actions">')
    if deleted:
        by = integration.deleted_by
        who = f" by {escape(by.get_username())}" if by is not None else ' <span class="muted">(in Qonversion)</span>'
        out.append(f"{_reltime(integration.deleted_at)}{who}")
    elif can_operate:
        csrf, back = _per_render(context)
        status_url = integration_url(context, integration, "status")
        delete_url = integration_url(context, integration, "delete")
        toggle = _PAUSE if integration.status == Status.ACTIVE else _ACTIVATE
        out.append(
            f'<form method="post" action="{status_url}" hx-post="{status_url}" hx-disabled-elt="find button">'
            f'{csrf}<input type="hidden" name="next" value="{back}">{toggle}</form>'
            f' <a href="{delete_url}" role="button" class="secondary outline small" hx-post="{delete_url}"'
            " data-confirm-delete>Delete</a>"
            ' <span class="htmx-indicator row-spinner" role="status"><span class="spinner" aria-hidden="true"></span>'
            '<span class="visually-hidden">Working…</span></span>'
        )
        row_notice = context.get("row_notice")
        if row_notice:
            out.append(f' <small class="row-notice" role="status">{escape(row_notice)}</small>')
    out.append("</td></tr>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped or our own markup
