"""How Qonversion's answer becomes the local mirror, and what counts as a change of an
integration's health (the history). Shared by the sync and the write services."""

from collections.abc import Mapping
from datetime import datetime

from integrations.catalog import Catalog
from integrations.models import Integration, IntegrationChange
from integrations.qonversion import RemoteIntegration
from qonadmin.redaction import redact
from qonadmin.text import reveal_bidi_controls

MIRRORED_FIELDS = (
    "title",
    "provider_name",
    "provider_slug",
    "platform",
    "status",
    "last_delivery_at",
    "last_error_at",
    "last_error_message",
    "delivery_error_count",
    "upstream_created_at",
    "upstream_updated_at",
    "synced_at",
)
PENDING_FIELDS = ("pending_status", "pending_since")
# A change of any of these is one row of history.
HEALTH_FIELDS = ("status", "delivery_error_count", "last_error_message", "last_error_at")


def shown_upstream_text(text: str) -> str:
    """Upstream text as the mirror keeps it: secret keys masked, direction controls visible."""
    return reveal_bidi_controls(redact(text))


def mirror_values(remote: RemoteIntegration, catalog: Catalog | None, now: datetime) -> dict[str, object]:
    return {
        # Upstream text is stored as shown: with anything that looks like a secret key masked.
        "title": shown_upstream_text(remote.title)[:255],
        "provider_name": remote.provider_name,
        "provider_slug": catalog.slug_for_title(remote.provider_name) if catalog else "",
        "platform": remote.target_platform,
        "status": remote.status,
        "last_delivery_at": remote.last_delivery_at,
        "last_error_at": remote.last_error_at,
        "last_error_message": shown_upstream_text(remote.last_error_message or ""),
        "delivery_error_count": remote.delivery_error_count,
        "upstream_created_at": remote.created_at,
        "upstream_updated_at": remote.updated_at,
        "synced_at": now,
    }


def health_changed(row: Integration, values: Mapping[str, object]) -> bool:
    return any(getattr(row, name) != values[name] for name in HEALTH_FIELDS)


def errors_added(previous: int | None, count: int) -> int:
    """How many delivery errors a change of the running count from `previous` to `count`
    records. delivery_error_count counts failures since the last successful delivery: a
    count that went up by n adds n; a lower count was reset by a success and restarted,
    so all of it is new (5 → 2 adds 2, 5 → 0 adds 0). The first count seen (`previous`
    None) adds nothing: those failures happened at a time nobody knows."""
    if previous is None:
        return 0
    return count - previous if count >= previous else count


def change_of(row: Integration, before: str, now: datetime, *, previous_count: int | None = None) -> IntegrationChange:
    """The history row for `row`'s new state: its status before `before` ("" if new) and
    its delivery error count before `previous_count` (None if new)."""
    return IntegrationChange(
        integration=row,
        at=now,
        status=row.status,
        previous_status=before,
        delivery_error_count=row.delivery_error_count,
        errors_added=errors_added(previous_count, row.delivery_error_count),
        last_error_message=row.last_error_message,
        last_error_at=row.last_error_at,
    )
