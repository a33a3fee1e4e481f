"""All mutable sandbox state, guarded by one re-entrant lock.

State is partitioned by secret key: every distinct accepted key is its own
project (§2).  Ids, however, are unique across the whole sandbox and never
handed out twice (§3.5 [doc]: a deleted record keeps its id and the id is never
reused) - ``minted_ids`` remembers every id ever issued until ``reset``.
With a state file (sandbox/persistence.py) that memory outlives a restart too.

Callers that need several steps to be atomic (idempotent create: check record,
create, store record) hold ``store.lock`` around them; the lock is an RLock so
store methods can be called while holding it.
"""

from __future__ import annotations

import dataclasses
import random
import string
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.responses import Response

ID_ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 8  # the documented example id "gNl6hyM6" is 8 alphanumerics
# Bounded so a long-running sandbox cannot grow without limit.
REQUEST_LOG_LIMIT = 10_000


def iso_utc(epoch_seconds: int | None) -> str | None:
    """``2026-02-26T16:03:09Z`` - UTC, second precision, ``Z`` suffix (§4 example)."""
    if epoch_seconds is None:
        return None
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seeded_rng(stream: str, seed: int | None) -> random.Random:
    """A simulation RNG (not for security): reproducible when ``seed`` is set.

    String seeds are hashed deterministically (independent of PYTHONHASHSEED);
    ``None`` seeds from the OS, i.e. different on every start/reset.
    """
    return random.Random(None if seed is None else f"{stream}:{seed}")  # noqa: S311


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss_next = rng.getstate()
    return [version, list(internal), gauss_next]


@dataclass
class Integration:
    id: str
    title: str
    slug: str
    display_title: str
    target_platform: str
    active: int
    # Whole epoch seconds: the wire format has second precision, and keeping the
    # same precision internally makes list order reproducible from the payload.
    created_at: int
    updated_at: int
    last_delivery_at: int | None = None
    last_error_at: int | None = None
    last_error_message: str | None = None
    delivery_error_count: int = 0
    deleted: bool = False

    def to_wire(self) -> dict[str, Any]:
        """Exactly the 13 fields of contract §4, in the documented order."""
        return {
            "object": "integration",
            "id": self.id,
            "url": f"/v4/integrations/{self.id}",
            "title": self.title,
            "integration": self.display_title,
            "target_platform": self.target_platform,
            "active": self.active,
            "created_at": iso_utc(self.created_at),
            "updated_at": iso_utc(self.updated_at),
            "last_delivery_at": iso_utc(self.last_delivery_at),
            "last_error_at": iso_utc(self.last_error_at),
            "last_error_message": self.last_error_message,
            "delivery_error_count": self.delivery_error_count,
        }

    @property
    def receives_deliveries(self) -> bool:
        return self.active == 1 and not self.deleted


@dataclass(frozen=True)
class IdempotencyRecord:
    fingerprint: str
    response: Response
    stored_at: float


@dataclass(frozen=True)
class RequestLogEntry:
    method: str
    path: str
    status: int | None  # None when the connection was dropped by a fault
    idempotency_key: str | None
    key_hint: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "idempotency_key": self.idempotency_key,
            "key_hint": self.key_hint,
        }


@dataclass
class _State:
    projects: dict[str, dict[str, Integration]] = field(default_factory=dict)
    minted_ids: set[str] = field(default_factory=set)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    request_log: deque[RequestLogEntry] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_LIMIT))


class SandboxStore:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self._state = _State()
        self.id_rng = _seeded_rng("ids", config.seed)
        self.delivery_rng = _seeded_rng("deliveries", config.seed)
        # Bumped by every change worth keeping across a restart (records, ids,
        # idempotency records, RNG draws); the state file is written when it moves.
        self.revision = 0

    def mark_changed(self) -> None:
        with self.lock:
            self.revision += 1

    # --- lifecycle ---------------------------------------------------------

    def reset(self) -> None:
        """Back to a freshly started sandbox, RNGs reseeded.

        With a fixed seed the same sequence of calls yields the same ids again,
        which is the point of reset in tests; the "never reused" id guarantee
        therefore spans one sandbox lifetime between resets.
        """
        with self.lock:
            self._state = _State()
            # Separate streams keep delivery outcomes independent of how many ids
            # were minted and vice versa.
            self.id_rng = _seeded_rng("ids", self.config.seed)
            self.delivery_rng = _seeded_rng("deliveries", self.config.seed)
            self.revision += 1

    def now(self) -> int:
        return int(self.config.clock())

    # --- integrations ------------------------------------------------------

    def _mint_id(self) -> str:
        while True:
            candidate = "".join(self.id_rng.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
            if candidate not in self._state.minted_ids:
                self._state.minted_ids.add(candidate)
                return candidate

    def add_integration(
        self,
        project_key: str,
        *,
        title: str,
        slug: str,
        display_title: str,
        target_platform: str,
        active: int = 0,
    ) -> Integration:
        with self.lock:
            now = self.now()
            integration = Integration(
                id=self._mint_id(),
                title=title,
                slug=slug,
                display_title=display_title,
                target_platform=target_platform,
                active=active,
                created_at=now,
                updated_at=now,
            )
            self._state.projects.setdefault(project_key, {})[integration.id] = integration
            self.revision += 1
            return integration

    def integrations(self, project_key: str, *, include_deleted: bool) -> list[Integration]:
        """Ordered by created_at ascending, then id (sandbox choice, §3.1 [unknown])."""
        with self.lock:
            records = self._state.projects.get(project_key, {}).values()
            visible = [r for r in records if include_deleted or not r.deleted]
            return sorted(visible, key=lambda r: (r.created_at, r.id))

    def find_live(self, project_key: str, integration_id: str) -> Integration | None:
        """A not-deleted integration of that project, else None."""
        with self.lock:
            record = self._state.projects.get(project_key, {}).get(integration_id)
            return None if record is None or record.deleted else record

    def set_active(self, integration: Integration, active: int) -> bool:
        """Change ``active``; bumps updated_at only on a real change."""
        with self.lock:
            if integration.active == active:
                return False
            integration.active = active
            integration.updated_at = self.now()
            self.revision += 1
            return True

    def soft_delete(self, integration: Integration) -> None:
        with self.lock:
            integration.deleted = True
            # Sandbox choice: a deleted record forwards nothing, and 0 is the only
            # v4 state meaning "nothing is forwarded", so it reads as paused if it
            # is ever shown (deleted_in_list=true or delete_status=200).
            integration.active = 0
            integration.updated_at = self.now()
            self.revision += 1

    def projects_in_order(self) -> list[tuple[str, list[Integration]]]:
        """Every project with all its records, in a stable order (for deliveries)."""
        with self.lock:
            return [(key, self.integrations(key, include_deleted=True)) for key in sorted(self._state.projects)]

    # --- idempotency -------------------------------------------------------

    def idempotency_record(self, project_key: str, idempotency_key: str) -> IdempotencyRecord | None:
        with self.lock:
            slot = (project_key, idempotency_key)
            record = self._state.idempotency.get(slot)
            if record is not None and self._expired(record):
                del self._state.idempotency[slot]
                return None
            return record

    def remember_response(
        self,
        project_key: str,
        idempotency_key: str,
        fingerprint: str,
        response: Response,
    ) -> None:
        with self.lock:
            self._purge_expired_idempotency()
            self._state.idempotency[(project_key, idempotency_key)] = IdempotencyRecord(
                fingerprint=fingerprint,
                response=response,
                stored_at=self.config.clock(),
            )
            self.revision += 1

    def _expired(self, record: IdempotencyRecord) -> bool:
        return self.config.clock() - record.stored_at >= self.config.idempotency_ttl

    def _purge_expired_idempotency(self) -> None:
        stale = [slot for slot, rec in self._state.idempotency.items() if self._expired(rec)]
        for slot in stale:
            del self._state.idempotency[slot]

    # --- persistence (the format itself lives in sandbox/persistence.py) --------

    def snapshot(self) -> dict[str, Any]:
        """Everything a restart must keep, as plain JSON-able values."""
        with self.lock:
            return {
                "projects": {
                    key: [dataclasses.asdict(record) for record in records.values()]
                    for key, records in sorted(self._state.projects.items())
                },
                "minted_ids": sorted(self._state.minted_ids),
                "idempotency": [
                    {
                        "project_key": project_key,
                        "idempotency_key": idempotency_key,
                        "fingerprint": record.fingerprint,
                        "stored_at": record.stored_at,
                        "status": record.response.status,
                        "headers": [list(header) for header in record.response.headers],
                        "body": None if record.response.body is None else record.response.body.decode("latin-1"),
                    }
                    for (project_key, idempotency_key), record in self._state.idempotency.items()
                ],
                "rng": {"ids": _rng_state(self.id_rng), "deliveries": _rng_state(self.delivery_rng)},
            }

    def restore(
        self,
        *,
        projects: dict[str, dict[str, Integration]],
        minted_ids: set[str],
        idempotency: dict[tuple[str, str], IdempotencyRecord],
        id_rng: random.Random,
        delivery_rng: random.Random,
    ) -> None:
        """Replace the records, ids, idempotency records and RNGs (the request log is kept)."""
        with self.lock:
            self._state.projects = projects
            # Every record's id counts as minted, whatever the file says.
            self._state.minted_ids = minted_ids | {i for records in projects.values() for i in records}
            self._state.idempotency = idempotency
            self.id_rng, self.delivery_rng = id_rng, delivery_rng

    # --- request log -------------------------------------------------------

    def log_request(self, entry: RequestLogEntry) -> None:
        with self.lock:
            self._state.request_log.append(entry)

    def request_log(self) -> list[RequestLogEntry]:
        with self.lock:
            return list(self._state.request_log)

    def clear_request_log(self) -> None:
        with self.lock:
            self._state.request_log.clear()
