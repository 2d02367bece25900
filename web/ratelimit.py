"""Per-client rate limiting for the search routes: a token bucket per client address.

A client may burst ``burst`` requests, then ``rate`` per second. Past that it gets a
429 with ``Retry-After`` (whole seconds until a request would be accepted). State is
in memory, per server process: this protects one server from one greedy client, it is
not an accounting system. Behind a reverse proxy every client shares the proxy's
address, so rate-limit at the proxy there and turn this off (``rate=0``).
"""

from __future__ import annotations

import math
import threading
import time

#: Buckets kept before idle (full) ones are forgotten, so memory stays bounded.
MAX_CLIENTS = 10_000


class RateLimiter:
    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = max(1, burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last time)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self, client: str) -> float:
        """Take one request's token for ``client``: returns 0 when allowed, else the
        seconds to wait."""
        if not self.enabled:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                if len(self._buckets) > MAX_CLIENTS:
                    self._forget_idle(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        for client, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= self.burst:
                del self._buckets[client]


def retry_after(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
