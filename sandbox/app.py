"""The sandbox as one object: settings, catalog and every piece of state."""

from __future__ import annotations

from sandbox.catalog import Catalog, load_catalog
from sandbox.config import SandboxConfig
from sandbox.faults import FaultQueue
from sandbox.persistence import StateFile
from sandbox.ratelimit import RateLimiter
from sandbox.store import SandboxStore


class Sandbox:
    def __init__(self, config: SandboxConfig, catalog: Catalog | None = None) -> None:
        self.config = config
        self.catalog = catalog or load_catalog()
        self.store = SandboxStore(config)
        self.faults = FaultQueue(seed=config.seed)
        self.rate_limiter = RateLimiter(config)
        # Bumped by every reset: a request that arrived before it (e.g. still sleeping in a
        # delay fault) is answered but not logged, so each run's request log is its own.
        self.generation = 0
        # --state-file: records, ids and idempotency records survive a restart.
        self.state_file = StateFile(config.state_file) if config.state_file else None
        if self.state_file is not None:
            self.state_file.load_into(self.store)

    def save_state(self) -> None:
        """Write the state file if anything changed (no-op without one). Called after
        every request and every delivery round, before the answer is sent."""
        if self.state_file is not None:
            self.state_file.save_if_changed(self.store)

    def reset(self) -> None:
        """Everything back to a fresh start (config is kept)."""
        with self.store.lock:
            self.generation += 1
            self.store.reset()
            self.faults.clear()
            self.rate_limiter.reset()
