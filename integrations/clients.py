"""Builds the Qonversion client for a project from settings and its decrypted key."""

import threading

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from integrations.crypto import DecryptionError
from integrations.models import Project
from integrations.qonversion import QonversionClient, QonversionError, RetryPolicy


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
def client_for_key(secret_key: str) -> QonversionClient:
    return QonversionClient(
        secret_key,
        base_url=settings.QONVERSION_API_BASE,
        connect_timeout=settings.QONVERSION_CONNECT_TIMEOUT,
        read_timeout=settings.QONVERSION_READ_TIMEOUT,
        retry=RetryPolicy(
            max_retries=settings.QONVERSION_MAX_RETRIES,
            backoff_seconds=settings.QONVERSION_BACKOFF_SECONDS,
            deadline_seconds=settings.QONVERSION_DEADLINE_SECONDS,
        ),
        session=_session(),
    )


@sensitive_variables("secret_key")
def client_for_project(project: Project) -> QonversionClient:
    try:
        secret_key = project.secret_key()
    except DecryptionError as error:
        raise ProjectKeyUnreadable(
            f"This project's stored key cannot be decrypted ({error}); ask a team admin to enter it again"
        ) from None
    return client_for_key(secret_key)
