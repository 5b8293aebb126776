"""What the workers of one forum share, chosen by the broker URL: rate limits and
connection counts in Redis when the broker is Redis, in this process's memory when it
is the in-process one (one worker, nothing to share)."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from forum.connection_caps import ConnectionCounter, MemoryConnectionCounter
from forum.limits import MemoryRateLimiter, RateLimiter
from forum.redis_caps import RedisConnectionCounter
from forum.redis_limits import FailoverRateLimiter, RedisRateLimiter
from forum.settings import Settings

# Redis answers in well under a millisecond; one that takes a second is away, and the
# request that waits on it falls back rather than hangs.
REDIS_TIMEOUT_S = 1.0


def uses_redis(settings: Settings) -> bool:
    return settings.broker_url.startswith(("redis://", "rediss://", "unix://"))


@dataclass
class SharedLimits:
    limiter: RateLimiter
    counter: ConnectionCounter
    _redis: list[RedisRateLimiter | RedisConnectionCounter]

    async def start(self) -> None:
        for part in self._redis:
            if isinstance(part, RedisConnectionCounter):
                await part.start()

    async def close(self) -> None:
        for part in self._redis:
            if isinstance(part, RedisConnectionCounter):
                await part.close()
            else:
                await part.aclose()


def _client(url: str) -> Redis:
    return Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )


def shared_limits(settings: Settings, *, limiter: RateLimiter | None = None) -> SharedLimits:
    """The limiter (`limiter` when given: tests bring one with a clock of their own)
    and the connection counter for `settings`."""
    if not uses_redis(settings):
        return SharedLimits(limiter or MemoryRateLimiter(), MemoryConnectionCounter(), [])
    counter = RedisConnectionCounter(_client(settings.broker_url))
    parts: list[RedisRateLimiter | RedisConnectionCounter] = [counter]
    if limiter is None:
        shared = RedisRateLimiter(_client(settings.broker_url))
        parts.append(shared)
        limiter = FailoverRateLimiter(shared)
    return SharedLimits(limiter, counter, parts)
