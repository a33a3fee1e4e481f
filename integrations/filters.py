"""The project page's filters: status, platform, provider and a title search, and the page
of the list being shown, all in the URL."""

from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from django.http import QueryDict

from integrations.models import Platform, Status
from qonadmin.paging import page_number

STATUS_CHOICES = {
    "all": None,
    "error": Status.ERROR,
    "active": Status.ACTIVE,
    "paused": Status.PAUSED,
    "deleted": None,
}
SEARCH_MAX_LENGTH = 100
PAGE_SIZE = 100  # rows of the project page's list


@dataclass(frozen=True)
class IntegrationFilters:
    status: str = "all"
    platform: str = ""
    provider: str = ""  # display name, as Qonversion lists it
    q: str = ""
    page: int = 1  # 1-based; a page past the last one shows the last (fragments.py)

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
            page=page_number(query.get("page", "")),
        )

    @property
    def showing_deleted(self) -> bool:
        return self.status == "deleted"

    @property
    def is_default(self) -> bool:
        """No filter chosen (whatever the page)."""
        return replace(self, page=1) == IntegrationFilters()

    @property
    def first_page(self) -> "IntegrationFilters":
        """The same filters on page 1: what "every matching integration" means."""
        return replace(self, page=1)

    def querystring(self, **changes: str | int) -> str:
        """This filter set (with `changes`) as a query string, defaults left out."""
        chosen = replace(self, **changes)  # type: ignore[arg-type]
        default = IntegrationFilters()
        pairs = [(f.name, getattr(chosen, f.name)) for f in fields(chosen)]
        return urlencode([(name, value) for name, value in pairs if value != getattr(default, name)])
