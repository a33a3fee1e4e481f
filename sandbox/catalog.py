"""The provider catalog served by GET /v4/integrations/meta.

Source of truth is ``catalog.json`` next to this file: the shared contract
snapshot (categories and 25 slugs, [doc]) plus the sandbox's own choices for
the fields the docs do not publish per slug - display titles (only
"Amplitude" is documented) and ``allowedStores`` (not published at all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).with_name("catalog.json")

# §3.2 [doc]: the enum is exactly these strings, case-sensitive.
TARGET_PLATFORMS: tuple[str, ...] = ("iOS", "Android", "Stripe")


@dataclass(frozen=True)
class Provider:
    slug: str
    title: str
    allowed_stores: tuple[str, ...]

    def meta_item(self) -> dict[str, Any]:
        # camelCase allowedStores is the documented wire name (§3.3).
        return {
            "title": self.title,
            "slug": self.slug,
            "allowedStores": list(self.allowed_stores),
        }


@dataclass(frozen=True)
class Category:
    title: str
    providers: tuple[Provider, ...]


@dataclass(frozen=True)
class Catalog:
    categories: tuple[Category, ...]

    def provider(self, slug: str) -> Provider | None:
        for category in self.categories:
            for provider in category.providers:
                if provider.slug == slug:
                    return provider
        return None

    @property
    def slugs(self) -> list[str]:
        return [p.slug for c in self.categories for p in c.providers]

    def meta_data(self) -> list[dict[str, Any]]:
        return [{"title": c.title, "items": [p.meta_item() for p in c.providers]} for c in self.categories]


def _provider_from(item: dict[str, Any]) -> Provider:
    stores = tuple(item["allowedStores"])
    unknown = [s for s in stores if s not in TARGET_PLATFORMS]
    if unknown:
        raise ValueError(f"catalog: {item['slug']} has unknown stores {unknown}")
    return Provider(slug=item["slug"], title=item["title"], allowed_stores=stores)


@cache
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    raw = json.loads(path.read_text(encoding="utf-8"))
    categories = tuple(
        Category(title=c["title"], providers=tuple(_provider_from(i) for i in c["items"])) for c in raw["categories"]
    )
    return Catalog(categories=categories)
