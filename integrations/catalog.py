"""The provider catalog (GET /v4/integrations/meta), cached.

The meta endpoint is the authoritative list of providers; it changes rarely, so
one answer serves every form for QONADMIN_META_CACHE_SECONDS.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from integrations.clients import client_for_project
from integrations.errors import UpstreamError
from integrations.qonversion import Provider, ProviderCategory, QonversionError
from teams.models import Project


@dataclass(frozen=True)
class Catalog:
    categories: tuple[ProviderCategory, ...]

    def provider(self, slug: str) -> Provider | None:
        for category in self.categories:
            for provider in category.providers:
                if provider.slug == slug:
                    return provider
        return None

    def slug_for_title(self, title: str) -> str:
        """List responses name the provider by display title only; map it back."""
        for category in self.categories:
            for provider in category.providers:
                if provider.title == title:
                    return provider.slug
        return ""


def catalog_cache_key(project: Project) -> str:
    # One catalog per API and environment; the key is not part of the cache key.
    digest = hashlib.sha256(f"{settings.QONVERSION_API_BASE}|{project.environment}".encode()).hexdigest()[:16]
    return f"qonadmin:catalog:{digest}"


def get_catalog(project: Project) -> Catalog:
    """The catalog, from cache or Qonversion. Raises UpstreamError when it cannot be had."""
    key = catalog_cache_key(project)
    cached = cache.get(key)
    if isinstance(cached, Catalog):
        return cached
    try:
        catalog = Catalog(categories=client_for_project(project).get_meta())
    except QonversionError as error:
        raise UpstreamError(error) from error
    cache.set(key, catalog, settings.QONADMIN_META_CACHE_SECONDS)
    return catalog


def cached_catalog(project: Project) -> Catalog | None:
    """The catalog if it is already cached; never calls upstream."""
    cached = cache.get(catalog_cache_key(project))
    return cached if isinstance(cached, Catalog) else None
