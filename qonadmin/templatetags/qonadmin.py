"""Filters every page uses: relative times, and audit details as one line of JSON."""

import json
from datetime import UTC, datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from qonadmin.redaction import redact

register = template.Library()


@register.filter
def reltime(value: datetime | None, empty: str = "never") -> SafeString:
    """'3 min ago', with the exact UTC time on hover and in the markup."""
    if value is None:
        return format_html('<span class="muted">{}</span>', empty)
    utc = value.astimezone(UTC) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
        naturaltime(value),
    )


@register.filter
def compact_json(value: object) -> str:
    """Audit details as one readable line of JSON (escaped by the template as usual)."""
    # Redacted again when shown: rows written before keys were masked on the way in.
    return redact(json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=True, default=str))
