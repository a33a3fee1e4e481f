"""Fixed-window rate limiting per secret key (§9: limits/headers [unknown]).

Every authenticated /v4 request counts (including idempotent replays and
requests that end in 4xx); requests rejected by authentication do not.  A
window starts with the first request after the previous one ended.
"""

from __future__ import annotations

import math
import threading

from sandbox.config import SandboxConfig
from sandbox.errors import ApiError


class RateLimiter:
    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (start, count)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def hit(self, project_key: str) -> None:
        """Count one request; raise 429 when the key is over its limit."""
        limit = self._config.rate_limit
        if limit <= 0:
            return
        window = self._config.rate_window
        now = self._config.clock()
        with self._lock:
            start, count = self._windows.get(project_key, (now, 0))
            if now - start >= window:
                start, count = now, 0
            count += 1
            self._windows[project_key] = (start, count)
            if count <= limit:
                return
            retry_after = max(1, math.ceil(start + window - now))
        headers: tuple[tuple[str, str], ...] = ()
        if self._config.retry_after_header:
            headers = (("Retry-After", str(retry_after)),)
        raise ApiError(
            429,
            "rate_limit_exceeded",
            f"Rate limit of {limit} requests per {window:g} s exceeded; retry in {retry_after} s",
            headers=headers,
        )
