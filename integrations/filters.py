"""The project page's filters: status, platform, provider and a title search, all in the URL."""

from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from django.http import QueryDict

from integrations.models import Platform, Status

STATUS_CHOICES = {
    "all": None,
    "error": Status.ERROR,
    "active": Status.ACTIVE,
    "paused": Status.PAUSED,
    "deleted": None,
}
SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class IntegrationFilters:
    status: str = "all"
    platform: str = ""
    provider: str = ""  # display name, as Qonversion lists it
    q: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> "IntegrationFilters":
        """Unknown or malformed values fall back to "no filter" rather than an error page."""
        status = query.get("status", "all")
        platform = query.get("platform", "")
        return cls(
            status=status if status in STATUS_CHOICES else "all",
            platform=platform if platform in Platform.values else "",
            provider=query.get("provider", "").strip()[:100],
            q=query.get("q", "").strip()[:SEARCH_MAX_LENGTH],
        )

    @property
    def showing_deleted(self) -> bool:
        return self.status == "deleted"

    @property
    def is_default(self) -> bool:
        return self == IntegrationFilters()

    def querystring(self, **changes: str) -> str:
        """This filter set (with `changes`) as a query string, defaults left out."""
        chosen = replace(self, **changes)
        default = IntegrationFilters()
        pairs = [(f.name, getattr(chosen, f.name)) for f in fields(chosen)]
        return urlencode([(name, value) for name, value in pairs if value != getattr(default, name)])
