"""Time sources for the sandbox.

Every time-dependent rule (timestamps, idempotency TTL, rate-limit windows) reads
the clock stored on ``SandboxConfig.clock`` so tests can move time forward
without sleeping.  A clock is any zero-argument callable returning epoch seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


def system_clock() -> float:
    """Wall-clock epoch seconds (the default)."""
    return time.time()


class ManualClock:
    """A clock that only moves when told to; thread-safe.

    >>> clock = ManualClock(1_772_121_789.0)
    >>> clock.advance(60)
    """

    def __init__(self, start: float = 1_772_121_789.0) -> None:
        # Default start is 2026-02-26T16:03:09Z, the timestamp used in the docs.
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now
