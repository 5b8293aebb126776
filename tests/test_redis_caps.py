"""The connection counter over Redis, as several workers use it: one count for all, taken
atomically; the slots of a worker that stopped beating (a crash) freed after its TTL;
and, while Redis cannot be reached, counts and limits kept in the worker's memory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from forum.limits import Limit
from forum.redis_caps import RedisConnectionCounter
from forum.redis_limits import FailoverRateLimiter, RedisRateLimiter
from tests.support import free_port
from tests.test_limits import REDIS_URL, _own_prefix


@pytest.fixture
def prefix() -> Iterator[str]:
    yield from _own_prefix()


def counter(prefix: str, *, ttl: float = 30.0, url: str = REDIS_URL) -> RedisConnectionCounter:
    # Each its own connection pool and id: another worker. Sixty connections opened at
    # once on a busy machine may take more than half a second; an address where nothing
    # listens is refused at once whatever the timeout.
    return RedisConnectionCounter(
        Redis.from_url(url, socket_connect_timeout=5), prefix=prefix, ttl=ttl
    )


async def test_workers_share_one_count_and_never_both_take_the_last_slot(prefix: str) -> None:
    workers = [counter(prefix) for _ in range(3)]
    try:
        answers = await asyncio.gather(
            *(workers[n % 3].acquire({"account:7": 10, "all": 100}) for n in range(60))
        )
        assert answers.count(None) == 10
        assert set(answers) == {None, "account:7"}
        assert await workers[0].count("account:7") == 10
        assert await workers[1].count("all") == 10
        # Each slot given back by the worker that took it, as an admission does.
        taken = [n % 3 for n, answer in enumerate(answers) if answer is None]
        for n in taken[:4]:
            await workers[n].release(["account:7", "all"])
        assert await workers[2].count("account:7") == 6
        assert await workers[0].acquire({"account:7": 10}) is None
    finally:
        for worker in workers:
            await worker.close()


async def test_a_crashed_workers_slots_are_freed_after_its_ttl(prefix: str) -> None:
    crashed = counter(prefix, ttl=0.5)
    alive = counter(prefix, ttl=0.5)
    try:
        for _ in range(3):
            assert await crashed.acquire({"address:10.0.0.1": 3}) is None
        assert await alive.acquire({"address:10.0.0.1": 3}) == "address:10.0.0.1"
        await alive.start()  # this one beats; the crashed one never will again
        await asyncio.sleep(0.7)
        assert await alive.count("address:10.0.0.1") == 0
        assert await alive.acquire({"address:10.0.0.1": 3}) is None
        await asyncio.sleep(0.7)
        # A worker that beats keeps its slots past the TTL.
        assert await alive.count("address:10.0.0.1") == 1
    finally:
        await alive.close()
        await crashed.redis.aclose()


async def test_while_redis_is_away_counts_and_limits_hold_per_worker() -> None:
    away = f"redis://127.0.0.1:{free_port()}/0"
    caps = counter("agora-test-away:", url=away)
    limiter = FailoverRateLimiter(
        RedisRateLimiter(Redis.from_url(away, socket_connect_timeout=0.5))
    )
    try:
        assert await caps.acquire({"account:1": 1}) is None
        assert await caps.acquire({"account:1": 1}) == "account:1"
        await caps.release(["account:1"])
        assert await caps.count("account:1") == 0
        sign_in = Limit("login:someone", 2, 60)
        assert await limiter.hit(sign_in) is None
        assert await limiter.hit(sign_in) is None
        assert await limiter.hit(sign_in) is not None
    finally:
        await caps.redis.aclose()
        await limiter.aclose()
