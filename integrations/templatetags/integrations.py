"""Status badges, integration links and health over time, the same on every page."""

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from integrations import history
from integrations.history import ErrorSeries, IntegrationHealth, RowHealth, Staleness
from integrations.models import Integration, Status
from qonadmin.times import ago, reltime_html, utc_iso
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
    a list draws each once. One baseline across the chart and a bar for each bucket with
    errors: a quiet day is one shape, not 24 (bench/README.md: a row's bytes and time were
    mostly its sparkline). The bars are numbers and fixed class names, built without
    per-value escaping; the texts are escaped once each."""
    slot = _SPARK_WIDTH / len(series.counts)
    gap = 1 if slot >= 3 else 0
    usable = _SPARK_HEIGHT - 2
    bars = [f'<rect class="spark-zero" x="0" y="{_SPARK_HEIGHT - 1}" width="{_SPARK_WIDTH}" height="1"/>']
    for index, count in enumerate(series.counts):
        if count:
            height = max(2, round(count / series.peak * usable))
            bars.append(
                f'<rect class="spark-bar" x="{index * slot:g}" y="{_SPARK_HEIGHT - height:g}"'
                f' width="{slot - gap:g}" height="{height:g}"/>'
            )
    summary = escape(series.summary)
    label = escape(series.window.label)
    # The numbers bucket by bucket say something only when there are some.
    desc = f"<desc>{escape(series.per_bucket)}</desc>" if series.total else ""
    return mark_safe(  # noqa: S308 - numbers, fixed classes and the escaped texts above
        f'<span class="spark{" spark-errors" if series.total else ""}" data-window="{label}">'
        f'<svg class="sparkline" role="img" aria-label="{summary}" viewBox="0 0 {_SPARK_WIDTH} {_SPARK_HEIGHT}"'
        f' width="{_SPARK_WIDTH}" height="{_SPARK_HEIGHT}" preserveAspectRatio="none" focusable="false">'
        f"<title>{summary}</title>{desc}{''.join(bars)}</svg>"
        f'<span class="spark-total" aria-hidden="true">{series.total:d} in {label}</span></span>'
    )


@register.simple_tag
def integration_health(integration: Integration) -> IntegrationHealth:
    """Both sparklines and the timeline of one integration, for its details row (which
    may run queries of its own; the list never calls this)."""
    return history.integration_health(integration)


@register.filter
def staleness(project: Project) -> Staleness | None:
    """Whether the project's list is stale, and why (integrations/history.py)."""
    return history.staleness(project)


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _clock_time(value: datetime) -> str:
    utc, iso = utc_iso(value)
    same_day = utc.date() == timezone.now().astimezone(UTC).date()
    short = f"{iso[11:16]} UTC" if same_day else f"{utc.day} {_MONTHS[utc.month]} {iso[11:16]} UTC"
    return f'<time datetime="{iso}Z" title="{iso[:10]} {iso[11:]} UTC">{short}</time>'


@register.filter
def clock_time(value: datetime | None) -> SafeString:
    """The exact time, short: "12:03 UTC" today (UTC), "3 Mar 12:03 UTC" before, in full on hover."""
    if value is None:
        return SafeString("")
    return mark_safe(_clock_time(value))  # noqa: S308 - digits and fixed text only


# ---- the rows of the project page's list ------------------------------------------------


# The stdlib's escaping (the same five characters as Django's `escape`) without the
# lazy-string wrapper around it: a page of rows escapes a thousand values.
_text = html.escape


_COUNT_TITLE = "Delivery errors since the last successful delivery"
# Row buttons submit the list's one shared form (`ROW_ACTION_FORM`, in list.html: the CSRF
# field and the page to come back to without JavaScript) with their own URL and value,
# so a row carries no form of its own; htmx sends that form too (a button's `form`).
ROW_ACTION_FORM = "row-action"
_TOGGLE = {
    Status.ACTIVE: ("paused", "secondary small", "Pause"),
    Status.PAUSED: ("active", "small", "Activate"),
    Status.ERROR: ("active", "small", "Activate"),
}
_SPINNER = (
    ' <span class="htmx-indicator row-spinner" role="status"><span class="spinner" aria-hidden="true"></span>'
    '<span class="visually-hidden">Working…</span></span>'
)


@lru_cache(maxsize=8)
def _badge(status: str) -> SafeString:
    return status_badge(status)


@dataclass(frozen=True)
class _RowsShared:
    """What every row of one render shares, read from the context once."""

    can_operate: bool
    health: dict[int, RowHealth]
    new_pk: int | None
    row_error: str
    row_notice: str


def _rows_shared(context: template.Context) -> _RowsShared:
    access = context.get("access")
    health = context.get("row_health")
    new = context.get("new_integration")
    return _RowsShared(
        can_operate=bool(getattr(access, "can_operate", False)),
        health=health if isinstance(health, dict) else {},
        new_pk=getattr(new, "pk", None),
        row_error=str(context.get("row_error") or ""),
        row_notice=str(context.get("row_notice") or ""),
    )


@register.simple_tag(takes_context=True)
def integration_rows(context: template.Context, integrations: Iterable[Integration]) -> SafeString:
    """Every row of the integration list (templates/integrations/project/list.html), in one
    call: a page of rows through the template engine, or one tag call a row, spent most of
    the page's time resolving variables (bench/README.md, "Project page against Django
    admin")."""
    shared = _rows_shared(context)
    return mark_safe(  # noqa: S308 - each row escapes every value it holds
        "".join(_row_markup(context, integration, shared) for integration in integrations)
    )


@register.simple_tag(takes_context=True)
def integration_row(context: template.Context, integration: Integration) -> SafeString:
    """One row of the list, as `integration_rows` writes it (after an action on the row)."""
    return mark_safe(_row_markup(context, integration, _rows_shared(context)))  # noqa: S308 - see _row_markup


def _row_markup(context: template.Context, integration: Integration, shared: _RowsShared) -> str:
    """One row. Every value from the database or Qonversion is escaped; the URLs come from
    `integration_url` (one reverse() per project and render)."""
    health = shared.health.get(integration.pk)
    deleted = integration.is_deleted
    pk = integration.pk
    title = _text(integration.title)
    detail_url = integration_url(context, integration)  # the row's actions are below it
    just_created = ' class="just-created"' if shared.new_pk == pk else ""
    out = [
        f'<tr id="integration-{pk}" data-qonversion-id="{_text(integration.qonversion_id)}"'
        f' data-status="{_text(integration.status)}"{just_created}>'
    ]
    if shared.can_operate and not deleted:
        out.append(
            f'<td class="select"><input type="checkbox" name="ids" value="{pk}" form="bulk-form"'
            f' aria-label="Select {title}"></td>'
        )
    out.append(f"<td>{_badge(integration.status)}")
    if integration.status == Status.ERROR and not deleted:
        since = health.error_since if health is not None else None
        when = f" since {_clock_time(since)} ({ago(since)})" if since else ""
        out.append(f'<small class="error-since">in Error{when}</small>')
    out.append(
        f'</td><td class="title"><a href="{detail_url}" hx-get="{detail_url}" hx-target="closest tr"'
        f' hx-swap="afterend" data-details-toggle="details-{pk}" aria-expanded="false"'
        f' aria-controls="details-{pk}">{title}</a>'
    )
    if integration.pending_status and not deleted:
        pending = _text(integration.get_pending_status_display().lower())
        out.append(
            '<p class="row-pending" role="status"><span aria-hidden="true">⏳</span> Waiting for Qonversion to confirm:'
            f" {pending} (asked {reltime_html(integration.pending_since)})</p>"
        )
    if shared.row_error:
        out.append(f'<p class="row-error" role="alert">{_text(shared.row_error)}</p>')
    out.append(
        f"</td><td>{_text(integration.provider_name)}</td><td>{_text(integration.platform)}</td>"
        f'<td class="spark-cell"><span class="error-count" title="{_COUNT_TITLE}">'
        f"{integration.delivery_error_count}</span>"
        f"{sparkline(health.last_24h) if health is not None else ''}</td>"
        f'<td>{reltime_html(integration.last_delivery_at)}</td><td class="last-error">'
    )
    if integration.last_error_message:
        text = integration.last_error_message
        message = _text(text if len(text) <= 80 else Truncator(text).chars(80))
        out.append(
            f'<span class="error-message">{message}</span> '
            f'<small class="muted">{reltime_html(integration.last_error_at, "")}</small>'
        )
    else:
        out.append('<span class="muted">—</span>')
    out.append('</td><td class="actions">')
    if deleted:
        by = integration.deleted_by
        who = f" by {_text(by.get_username())}" if by is not None else ' <span class="muted">(in Qonversion)</span>'
        out.append(f"{reltime_html(integration.deleted_at)}{who}")
    elif shared.can_operate:
        status_url = f"{detail_url}status/"
        delete_url = f"{detail_url}delete/"
        value, classes, label = _TOGGLE[Status(integration.status)]
        out.append(
            f'<button type="submit" form="{ROW_ACTION_FORM}" formaction="{status_url}" hx-post="{status_url}"'
            f' hx-disabled-elt="this" name="status" value="{value}" class="{classes}">{label}</button>'
            f' <a href="{delete_url}" role="button" class="secondary outline small" hx-post="{delete_url}"'
            f" data-confirm-delete>Delete</a>{_SPINNER}"
        )
        if shared.row_notice:
            out.append(f' <small class="row-notice" role="status">{_text(shared.row_notice)}</small>')
    out.append("</td></tr>")
    return "".join(out)
