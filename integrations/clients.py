"""Builds the Qonversion client for a project from settings and its decrypted key."""

import threading
from collections.abc import Callable

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from integrations import breaker
from integrations.qonversion import (
    ProviderCategory,
    QonversionClient,
    QonversionError,
    RemoteIntegration,
    RetryPolicy,
)
from teams.crypto import DecryptionError
from teams.models import Project


class ProjectKeyUnreadable(QonversionError):
    """The stored key cannot be decrypted (missing encryption key, or tampered)."""


_local = threading.local()


def _session() -> requests.Session:
    # One pooled session per thread: connections to Qonversion are reused across
    # requests without sharing a Session between threads.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


@sensitive_variables("secret_key")
def client_for_key(secret_key: str, *, deadline_seconds: float | None = None) -> QonversionClient:
    deadline = settings.QONVERSION_DEADLINE_SECONDS
    return QonversionClient(
        secret_key,
        base_url=settings.QONVERSION_API_BASE,
        connect_timeout=settings.QONVERSION_CONNECT_TIMEOUT,
        read_timeout=settings.QONVERSION_READ_TIMEOUT,
        retry=RetryPolicy(
            max_retries=settings.QONVERSION_MAX_RETRIES,
            backoff_seconds=settings.QONVERSION_BACKOFF_SECONDS,
            deadline_seconds=min(deadline, deadline_seconds) if deadline_seconds else deadline,
        ),
        session=_session(),
    )


class ProjectClient:
    """The Qonversion client of one project, behind that project's circuit breaker:
    while the breaker is open, calls fail at once with QonversionNotAnswering."""

    def __init__(self, project: Project, client: QonversionClient) -> None:
        self.project = project
        self._client = client

    def __repr__(self) -> str:
        return f"<ProjectClient project={self.project.pk}>"

    def _guarded[T](self, call: Callable[[QonversionClient], T]) -> T:
        breaker.check(self.project)
        try:
            result = call(self._client)
        except QonversionError as error:
            if breaker.counts_as_failure(error):
                breaker.record_failure(self.project)
            else:
                breaker.record_success(self.project)  # Qonversion answered, if only to refuse
            raise
        breaker.record_success(self.project)
        return result

    def list_integrations(self) -> list[RemoteIntegration]:
        return self._guarded(lambda client: client.list_integrations())

    def get_meta(self) -> tuple[ProviderCategory, ...]:
        return self._guarded(lambda client: client.get_meta())

    def create_integration(
        self, *, title: str, provider_slug: str, platform: str, idempotency_key: str
    ) -> RemoteIntegration:
        return self._guarded(
            lambda client: client.create_integration(
                title=title, provider_slug=provider_slug, platform=platform, idempotency_key=idempotency_key
            )
        )

    def set_status(self, integration_id: str, *, active: bool) -> RemoteIntegration:
        return self._guarded(lambda client: client.set_status(integration_id, active=active))

    def delete_integration(self, integration_id: str) -> None:
        self._guarded(lambda client: client.delete_integration(integration_id))


@sensitive_variables("secret_key")
def client_for_project(project: Project, *, deadline_seconds: float | None = None) -> ProjectClient:
    """`deadline_seconds` shortens the bound on waiting (e.g. for the rest of a bulk step)."""
    try:
        secret_key = project.secret_key()
    except DecryptionError as error:
        raise ProjectKeyUnreadable(
            f"This project's stored key cannot be decrypted ({error}); ask a team admin to enter it again"
        ) from None
    return ProjectClient(project, client_for_key(secret_key, deadline_seconds=deadline_seconds))
