"""Rate limits: sliding-window counters, counted and decided in one atomic step.

The in-memory limiter serves one process; `forum.redis_limits` (same protocol) serves
many. There is no "check, then count later" operation on purpose: a caller that checked
first and counted after its slow work (a password hash) let every request that arrived
meanwhile through, so an attempt is counted before the work, and given back with
`forget` if it should not count after all (a successful sign-in).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from forum.errors import N_, ErrorCode, ForumError

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits on `key` in any `window` seconds."""

    key: str
    limit: int
    window: float


class RateLimiter(Protocol):
    async def hit(self, *limits: Limit) -> float | None:
        """Count one hit against every limit, atomically, or against none.

        None when allowed (counted on every key); else the seconds until all the keys
        that refused have room again, and nothing is counted anywhere, so that a refused
        request does not use up another key's budget nor extend its own wait.
        """

    async def forget(self, *keys: str) -> None:
        """Give back the newest hit of each key (an attempt that turned out fine)."""

    async def reset(self, *keys: str) -> None: ...


class MemoryRateLimiter:
    """One process's limits. `hit` never awaits, so on one event loop it is atomic."""

    def __init__(self, clock: Clock = time.monotonic, max_keys: int = 100_000) -> None:
        self.clock = clock
        # key -> (its window, the times of its hits in that window, oldest first)
        self._hits: dict[str, tuple[float, deque[float]]] = {}
        self._prune_at = max_keys

    async def hit(self, *limits: Limit) -> float | None:
        now = self.clock()
        wait = 0.0
        for limit in limits:
            _, hits = self._hits.get(limit.key, (limit.window, deque()))
            while hits and hits[0] <= now - limit.window:
                hits.popleft()
            if len(hits) >= limit.limit:
                if limit.limit <= 0:
                    wait = max(wait, limit.window)
                    continue
                # Room again once the hits beyond limit - 1 have left the window.
                oldest = hits[len(hits) - limit.limit]
                wait = max(wait, oldest + limit.window - now, 0.001)
        if wait:
            return wait
        for limit in limits:
            entry = self._hits.get(limit.key)
            if entry is None:
                if len(self._hits) >= self._prune_at:
                    self._prune(now)
                entry = self._hits[limit.key] = (limit.window, deque())
            elif entry[0] != limit.window:
                entry = self._hits[limit.key] = (max(entry[0], limit.window), entry[1])
            entry[1].append(now)
        return None

    async def forget(self, *keys: str) -> None:
        for key in keys:
            entry = self._hits.get(key)
            if entry and entry[1]:
                entry[1].pop()

    async def reset(self, *keys: str) -> None:
        for key in keys:
            self._hits.pop(key, None)

    def _prune(self, now: float) -> None:
        # Each key by its own window: a flood of short-lived keys must not push out a
        # sign-in counter that still has minutes to run.
        stale = [k for k, (window, v) in self._hits.items() if not v or v[-1] <= now - window]
        for key in stale:
            del self._hits[key]
        # Live keys only: scan again when twice as many, not at every new key.
        self._prune_at = max(self._prune_at, 2 * len(self._hits))


def rate_limited(retry_after: float, message: str) -> ForumError:
    """`message` is a whole sentence marked with `N_`, the wait in it as `{seconds}`:
    "Too many posts; try again in {seconds} s." (a translation agrees with its noun)."""
    return ForumError(
        ErrorCode.RATE_LIMITED,
        message,
        retry_after=retry_after,
        params={"seconds": max(1, round(retry_after))},
    )


async def enforce(limiter: RateLimiter, key: str, limit: int, window: float, message: str) -> None:
    retry_after = await limiter.hit(Limit(key, limit, window))
    if retry_after is not None:
        raise rate_limited(retry_after, message)


@dataclass(frozen=True)
class PostThrottle:
    """How many posts an account, and an address, may write in a window."""

    limiter: RateLimiter
    limit: int
    window: float
    client_ip: str | None = None
    ip_limit: int = 0

    def _limits(self, user_id: int) -> list[Limit]:
        limits = [Limit(f"post:user:{user_id}", self.limit, self.window)]
        if self.client_ip is not None and self.ip_limit:
            limits.append(Limit(f"post:ip:{self.client_ip}", self.ip_limit, self.window))
        return limits

    async def give_back(self, user_id: int) -> None:
        """A post counted, then refused: it counts nowhere after all."""
        await self.limiter.forget(*(limit.key for limit in self._limits(user_id)))

    async def count(self, user_id: int) -> None:
        limits = self._limits(user_id)
        # One step for every key: a refused post counts nowhere, and two posts at once
        # cannot both take the last place.
        retry_after = await self.limiter.hit(*limits)
        if retry_after is not None:
            raise rate_limited(retry_after, N_("Too many posts; try again in {seconds} s."))
