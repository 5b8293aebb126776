"""Connection caps shared by every worker: the `ConnectionCounter` protocol over Redis.

Each worker counts its own connections in a hash of its own (key -> count), and its id
sits in a sorted set scored by when its counts expire. A heartbeat pushes that time on
every `TTL_S / 3`, and the TTL of its hash with it; a worker that stops (SIGKILL, a host
gone) stops beating, its hash expires and the first acquire after that drops it from
the set: the slots of its connections, which no release will ever give back, are free
again within `TTL_S`.

One Lua script sweeps, sums every live worker's count of each key, decides and counts,
so that two workers cannot both take a key's last slot, and a refused connection counts
under no key. Time is Redis's clock. While Redis is unreachable, connections are
counted in this worker's memory (the caps then hold per worker) and slots that could
not be given back are given back at a later beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from forum.connection_caps import MemoryConnectionCounter

log = logging.getLogger(__name__)

TTL_S = 30.0

# Every script begins so: Redis's time, and the hashes of workers past their time gone.
# ARGV[1] is the prefix of the workers' hashes, KEYS[1] the sorted set of workers.
_SWEEP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local prefix = ARGV[1]
for _, w in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('DEL', prefix .. w)
  redis.call('ZREM', KEYS[1], w)
end
"""

# KEYS: the workers' set, this worker's hash. ARGV: hash prefix, worker id, ttl, then
# key and limit pairs. Returns false when counted, else the first full key.
_ACQUIRE = (
    _SWEEP
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[3]) * 1000))
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
for i = 4, #ARGV, 2 do
  local total = 0
  for _, w in ipairs(live) do
    total = total + tonumber(redis.call('HGET', prefix .. w, ARGV[i]) or '0')
  end
  if total >= tonumber(ARGV[i + 1]) then
    return ARGV[i]
  end
end
for i = 4, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
end
return false
"""
)

# KEYS: this worker's hash. ARGV: the keys. Returns the keys that held no slot here
# (counted in memory while Redis was away).
_RELEASE = """
local missing = {}
for _, key in ipairs(ARGV) do
  local left = tonumber(redis.call('HGET', KEYS[1], key) or '0')
  if left > 1 then
    redis.call('HINCRBY', KEYS[1], key, -1)
  elseif left == 1 then
    redis.call('HDEL', KEYS[1], key)
  else
    table.insert(missing, key)
  end
end
return missing
"""

# KEYS: the workers' set, this worker's hash. ARGV: worker id, ttl.
_BEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[2]) * 1000))
return 1
"""

# KEYS: the workers' set. ARGV: hash prefix, the key.
_COUNT = (
    _SWEEP
    + """
local total = 0
for _, w in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  total = total + tonumber(redis.call('HGET', prefix .. w, ARGV[2]) or '0')
end
return total
"""
)


class RedisConnectionCounter:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "agora:conn:",
        ttl: float = TTL_S,
        worker: str | None = None,
    ) -> None:
        self.redis = redis
        self.ttl = ttl
        self.worker = worker or str(uuid.uuid4())
        self._workers = prefix + "workers"
        self._hash_prefix = prefix + "w:"
        self._mine = self._hash_prefix + self.worker
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._beat = redis.register_script(_BEAT)
        self._count = redis.register_script(_COUNT)
        # Connections counted while Redis was away, and slots owed back to Redis.
        self._local = MemoryConnectionCounter()
        self._owed: list[str] = []
        # Logged when Redis goes, not at every connection.
        self.away = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._beat_loop(), name="connection-caps-beat")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # A clean stop frees this worker's slots at once rather than after the TTL.
        with contextlib.suppress(RedisError, OSError):
            await self.redis.zrem(self._workers, self.worker)
            await self.redis.delete(self._mine)
        await self.redis.aclose()

    async def acquire(self, limits: Mapping[str, int]) -> str | None:
        args: list[str | int | float] = [self._hash_prefix, self.worker, self.ttl]
        for key, limit in limits.items():
            args += [key, limit]
        try:
            full = await self._acquire(keys=[self._workers, self._mine], args=args)
        except (RedisError, OSError) as error:
            if not self.away:
                self.away = True
                log.warning("connection caps per worker: Redis is away (%s)", type(error).__name__)
            return await self._local.acquire(limits)
        self.away = False
        return None if full is None else full.decode()

    async def release(self, keys: Sequence[str]) -> None:
        try:
            missing = await self._release(keys=[self._mine], args=list(keys))
        except (RedisError, OSError):
            local = [key for key in keys if await self._local.count(key) > 0]
            await self._local.release(local)
            self._owed += [key for key in keys if key not in local]
            return
        await self._local.release([key.decode() for key in missing])

    async def count(self, key: str) -> int:
        try:
            shared = int(await self._count(keys=[self._workers], args=[self._hash_prefix, key]))
        except (RedisError, OSError):
            shared = 0
        return shared + await self._local.count(key)

    async def beat(self) -> None:
        await self._beat(keys=[self._workers, self._mine], args=[self.worker, self.ttl])
        if self._owed:
            owed, self._owed = self._owed, []
            await self._release(keys=[self._mine], args=owed)

    async def _beat_loop(self) -> None:
        while True:
            try:
                await self.beat()
            except (RedisError, OSError) as error:
                log.warning("connection caps heartbeat failed (%s)", type(error).__name__)
            await asyncio.sleep(self.ttl / 3)
