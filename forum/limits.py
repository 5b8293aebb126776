"""Rate limits: a sliding-window counter per key, with a clock tests can move.

The in-memory limiter serves one process; the Redis one (same protocol) serves many.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from forum.errors import ErrorCode, ForumError

Clock = Callable[[], float]


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Count one hit; None when allowed, else the seconds until the next is allowed.

        A refused hit is not counted, so that hammering does not extend the wait.
        """

    async def peek(self, key: str, limit: int, window: float) -> float | None:
        """Like `hit`, without counting: is the key blocked now?"""

    async def reset(self, key: str) -> None: ...


class MemoryRateLimiter:
    def __init__(self, clock: Clock = time.monotonic, max_keys: int = 100_000) -> None:
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._prune(now, window)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return max(hits[0] + window - now, 0.001)
        hits.append(now)
        return None

    async def peek(self, key: str, limit: int, window: float) -> float | None:
        now = self.clock()
        hits = [t for t in self._hits.get(key, ()) if t > now - window]
        if len(hits) >= limit:
            return max(hits[0] + window - now, 0.001)
        return None

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def _prune(self, now: float, window: float) -> None:
        stale = [k for k, v in self._hits.items() if not v or v[-1] <= now - window]
        for key in stale:
            del self._hits[key]


def rate_limited(retry_after: float, what: str) -> ForumError:
    return ForumError(
        ErrorCode.RATE_LIMITED,
        f"Too many {what}; try again in {max(1, round(retry_after))} s.",
        retry_after=retry_after,
    )


async def enforce(limiter: RateLimiter, key: str, limit: int, window: float, what: str) -> None:
    retry_after = await limiter.hit(key, limit, window)
    if retry_after is not None:
        raise rate_limited(retry_after, what)
