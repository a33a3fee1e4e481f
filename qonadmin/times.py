"""Times as every page shows them: relative words with the exact UTC time on hover.

Written with f-strings and `isoformat` rather than `format_html`, `strftime` and the
translation machinery: a list row shows up to four times, and those were a good part of
its cost (bench/README.md, "Project page against Django admin")."""

import html
from datetime import UTC, datetime

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone


def utc_iso(value: datetime) -> tuple[datetime, str]:
    """The time in UTC and as "2026-03-03T12:03:09"."""
    utc = value.astimezone(UTC) if timezone.is_aware(value) else value
    return utc, utc.isoformat(timespec="seconds")[:19]


def ago(value: datetime) -> str:
    """naturaltime's words for a time less than a day ago ("5\u00a0minutes ago"), worked
    out directly; anything else (older, in the future) is naturaltime's own."""
    now = datetime.now(UTC if timezone.is_aware(value) else None)
    delta = now - value
    if value >= now or delta.days:
        return str(naturaltime(value))
    seconds = delta.seconds
    if seconds == 0:
        return "now"
    if seconds < 60:
        return "a second ago" if seconds == 1 else f"{seconds}\u00a0seconds ago"
    if seconds < 3600:
        minutes = seconds // 60
        return "a minute ago" if minutes == 1 else f"{minutes}\u00a0minutes ago"
    hours = seconds // 3600
    return "an hour ago" if hours == 1 else f"{hours}\u00a0hours ago"


def reltime_html(value: datetime | None, empty: str = "never") -> str:
    """'3 minutes ago' in a <time> with the exact UTC time on hover; `empty` (escaped) for
    no time. The markup of the `reltime` filter."""
    if value is None:
        return f'<span class="muted">{html.escape(empty)}</span>'
    _, iso = utc_iso(value)
    # ago() is digits and fixed words: nothing to escape.
    return f'<time datetime="{iso}Z" title="{iso[:10]} {iso[11:]} UTC">{ago(value)}</time>'
