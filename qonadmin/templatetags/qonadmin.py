"""Filters every page uses: relative times, and audit details as one line of JSON."""

import json
from datetime import datetime

from django import template
from django.utils.safestring import SafeString, mark_safe

from qonadmin.redaction import redact
from qonadmin.times import reltime_html

register = template.Library()


@register.filter
def reltime(value: datetime | None, empty: str = "never") -> SafeString:
    """'3 min ago', with the exact UTC time on hover and in the markup."""
    return mark_safe(reltime_html(value, empty))  # noqa: S308 - reltime_html escapes what it is given


@register.filter
def compact_json(value: object) -> str:
    """Audit details as one readable line of JSON (escaped by the template as usual)."""
    # Redacted again when shown: rows written before keys were masked on the way in.
    return redact(json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=True, default=str))
