"""Rate limits shared by every worker: the `RateLimiter` protocol over Redis.

Each key is a sorted set of hit times. One Lua script trims, decides and counts for
all the keys of a hit, so that it is atomic across workers as the in-memory limiter is
within one: two workers cannot both take the last place, and a refused hit counts on no
key. Time is Redis's own clock (`TIME`), one clock for all workers, unless a clock is
given (tests). Needs Redis 5 or later, and the keys of one hit on one node (no cluster).

The `limits` package was considered first: it counts one key per call, with no way to
count several keys all or none, nor to give one hit back, both of which sign-in needs.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from forum.limits import Clock, Limit, MemoryRateLimiter

log = logging.getLogger(__name__)

# KEYS: the keys. ARGV: now ("" for Redis's clock), a member unique to this hit, then
# limit and window of each key, in order. Returns nil when counted, else the wait.
_HIT = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    if limit <= 0 then
      wait = math.max(wait, window)
    else
      local nth = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
      wait = math.max(wait, tonumber(nth[2]) + window - now, 0.001)
    end
  end
end
if wait > 0 then
  return tostring(wait)
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 + 2 * i]) * 1000))
end
return false
"""


class RedisRateLimiter:
    def __init__(
        self, redis: Redis, *, prefix: str = "agora:limit:", clock: Clock | None = None
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self._hit = redis.register_script(_HIT)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisRateLimiter:
        return cls(Redis.from_url(url), **options)

    async def hit(self, *limits: Limit) -> float | None:
        if not limits:
            return None
        now = "" if self.clock is None else repr(self.clock())
        args: list[str] = [now, secrets.token_hex(8)]
        for limit in limits:
            args += [str(limit.limit), repr(float(limit.window))]
        wait = await self._hit(keys=[self.prefix + limit.key for limit in limits], args=args)
        return None if wait is None else float(wait)

    async def forget(self, *keys: str) -> None:
        if keys:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zpopmax(self.prefix + key)
                await pipe.execute()

    async def reset(self, *keys: str) -> None:
        if keys:
            await self.redis.delete(*(self.prefix + key for key in keys))

    async def aclose(self) -> None:
        await self.redis.aclose()


class FailoverRateLimiter:
    """The Redis limiter, and this worker's memory while Redis cannot be reached: a
    Redis restart must neither open sign-in to unlimited guessing nor refuse everyone,
    so for that while each limit holds per worker (at most the number of workers times
    looser), and Redis's counts resume when it is back."""

    def __init__(self, shared: RedisRateLimiter, local: MemoryRateLimiter | None = None) -> None:
        self.shared = shared
        self.local = local or MemoryRateLimiter()
        # Logged when Redis goes and when it is back, not at every check: every frame is.
        self.away = False

    async def hit(self, *limits: Limit) -> float | None:
        try:
            wait = await self.shared.hit(*limits)
        except (RedisError, OSError) as error:
            if not self.away:
                self.away = True
                log.warning("rate limits per worker: Redis is away (%s)", type(error).__name__)
            return await self.local.hit(*limits)
        if self.away:
            self.away = False
            log.info("rate limits shared again: Redis is back")
        return wait

    async def forget(self, *keys: str) -> None:
        try:
            await self.shared.forget(*keys)
        except (RedisError, OSError):
            await self.local.forget(*keys)

    async def reset(self, *keys: str) -> None:
        await self.local.reset(*keys)
        try:
            await self.shared.reset(*keys)
        except (RedisError, OSError):
            log.warning("rate limit reset not shared: Redis is away")

    async def aclose(self) -> None:
        await self.shared.aclose()
