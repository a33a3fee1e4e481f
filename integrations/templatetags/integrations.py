"""Status badges and integration links, the same on every page."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from integrations.models import Integration, Status

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
