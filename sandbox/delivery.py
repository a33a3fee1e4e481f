"""Simulated event delivery - the only way an integration reaches ``active = 2``.

Rules (§4/§5 define the fields; the worker's behaviour itself is [unknown]):

* only ``active == 1`` and not deleted integrations get deliveries in a round;
* success: ``last_delivery_at = now``, ``delivery_error_count = 0`` (the count is
  "failures since the last successful delivery", §4);
* failure: ``last_error_at = now``, ``last_error_message`` picked from
  ``FAILURE_MESSAGES``, ``delivery_error_count += 1``; when the count reaches
  ``error_threshold`` on an active record, ``active`` becomes 2;
* only changes to ``active`` bump ``updated_at``; delivery bookkeeping does not
  (sandbox choice for §12.13: updated_at tracks the record's configuration).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.store import Integration, SandboxStore

logger = logging.getLogger("sandbox.delivery")

FAILURE_MESSAGES: tuple[str, ...] = (
    "401 from endpoint: invalid API key",
    "Rate limited by provider (429)",
    "Timeout after 10 s contacting provider",
    "Provider rejected event: malformed user_id",
    "403 from endpoint: project access denied",
    "502 Bad Gateway from provider",
    "TLS handshake with provider failed: certificate expired",
)
# Used by the control API when a forced failure names no message; fixed (rather
# than drawn from the RNG) so forced deliveries never disturb the seeded stream.
DEFAULT_FAILURE_MESSAGE = FAILURE_MESSAGES[0]


@dataclass(frozen=True)
class RoundResult:
    delivered: int = 0
    failed: int = 0
    errored: int = 0  # failures in this round that flipped a record to 2

    def to_json(self) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "errored": self.errored,
        }


def record_success(store: SandboxStore, integration: Integration) -> None:
    with store.lock:
        integration.last_delivery_at = store.now()
        integration.delivery_error_count = 0
        store.mark_changed()


def record_failure(store: SandboxStore, integration: Integration, message: str) -> bool:
    """Record one failed delivery; True when it suspended the integration (-> 2).

    Only an active record is suspended: a forced failure on a paused record
    (control API) records the error but leaves it paused.
    """
    with store.lock:
        integration.last_error_at = store.now()
        integration.last_error_message = message
        integration.delivery_error_count += 1
        store.mark_changed()
        if integration.active == 1 and integration.delivery_error_count >= store.config.error_threshold:
            return store.set_active(integration, 2)
        return False


def run_round(store: SandboxStore) -> RoundResult:
    """One delivery attempt for every active integration, in a stable order."""
    delivered = failed = errored = 0
    with store.lock:
        rng = store.delivery_rng
        for _key, integrations in store.projects_in_order():
            for integration in integrations:
                if not integration.receives_deliveries:
                    continue
                if rng.random() < store.config.failure_rate:
                    failed += 1
                    if record_failure(store, integration, rng.choice(FAILURE_MESSAGES)):
                        errored += 1
                else:
                    delivered += 1
                    record_success(store, integration)
    return RoundResult(delivered=delivered, failed=failed, errored=errored)


class DeliveryWorker:
    """Background thread running ``run_round`` every ``interval`` seconds."""

    def __init__(self, store: SandboxStore, interval: float, *, after_round: Callable[[], None] | None = None) -> None:
        self._store = store
        self._interval = interval
        self._after_round = after_round  # e.g. write the state file
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sandbox-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            result = run_round(self._store)
            if self._after_round is not None:
                self._after_round()
            if result.failed or result.delivered:
                logger.info(
                    "delivery round: %d delivered, %d failed, %d errored",
                    result.delivered,
                    result.failed,
                    result.errored,
                )
