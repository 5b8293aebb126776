"""The rate-limiter protocol, one contract for the in-memory and the Redis limiter:
count and decide in one step, all keys or none, atomic under concurrency (across
clients, for Redis: as across workers)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from redis.asyncio import Redis

from forum.limits import Limit, MemoryRateLimiter, RateLimiter
from forum.redis_limits import RedisRateLimiter
from tests.databases import IN_CI
from tests.support import FakeClock

REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

MakeLimiter = Callable[[], RateLimiter]


async def _on_redis(prefix: str, *, clean: bool) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
        if clean:
            keys = [key async for key in redis.scan_iter(match=prefix + "*")]
            if keys:
                await redis.delete(*keys)
    finally:
        await redis.aclose()


def _own_prefix() -> Iterator[str]:
    """A prefix of this test's own, on the real Redis; its keys are deleted after."""
    prefix = f"agora-test:{uuid.uuid4().hex[:12]}:"
    try:
        asyncio.run(_on_redis(prefix, clean=False))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        if IN_CI:
            pytest.fail(f"Redis is required in CI and unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    yield prefix
    asyncio.run(_on_redis(prefix, clean=True))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    yield from _own_prefix()


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which limiter; for Redis, the key prefix (set up here, outside the event loop)."""
    if request.param == "memory":
        yield ""
    else:
        yield from _own_prefix()


@pytest.fixture
async def make(backend: str, clock: FakeClock) -> AsyncIterator[MakeLimiter]:
    """Limiters that share their counts, as the workers of one site do, on one clock."""
    if not backend:
        shared = MemoryRateLimiter(clock=clock)
        yield lambda: shared
        return
    opened: list[RedisRateLimiter] = []

    def new() -> RateLimiter:
        # Each its own connection pool: another worker.
        limiter = RedisRateLimiter.from_url(REDIS_URL, prefix=backend, clock=clock)
        opened.append(limiter)
        return limiter

    yield new
    for limiter in opened:
        await limiter.aclose()


async def test_a_window_allows_its_limit_then_tells_how_long_to_wait(
    make: MakeLimiter, clock: FakeClock
) -> None:
    limiter = make()
    posts = Limit("post:user:1", 3, 60)
    for _ in range(3):
        assert await limiter.hit(posts) is None
        clock.advance(10)
    # Hits at 0, 10 and 20 s: room again when the first leaves the window, at 60 s.
    assert await limiter.hit(posts) == pytest.approx(30)
    clock.advance(29)
    assert await limiter.hit(posts) == pytest.approx(1)
    clock.advance(1)
    assert await limiter.hit(posts) is None
    assert await limiter.hit(posts) == pytest.approx(10)


async def test_a_refused_hit_counts_on_no_key(make: MakeLimiter) -> None:
    limiter = make()
    full = Limit("login:pair:192.0.2.1 a@example.org", 1, 900)
    shared = Limit("login:ip:192.0.2.1", 3, 900)
    assert await limiter.hit(full, shared) is None
    for _ in range(5):
        assert await limiter.hit(full, shared) == pytest.approx(900)
    # The shared key counted the one allowed hit only: two more places.
    other = Limit("login:pair:192.0.2.1 b@example.org", 5, 900)
    assert await limiter.hit(other, shared) is None
    assert await limiter.hit(other, shared) is None
    assert await limiter.hit(other, shared) == pytest.approx(900)


async def test_the_wait_is_that_of_the_slowest_refusing_key(
    make: MakeLimiter, clock: FakeClock
) -> None:
    limiter = make()
    short, long = Limit("a", 1, 10), Limit("b", 1, 100)
    assert await limiter.hit(short, long) is None
    clock.advance(5)
    assert await limiter.hit(short, long) == pytest.approx(95)
    assert await limiter.hit(short) == pytest.approx(5)


async def test_forget_gives_back_one_hit_and_reset_all(make: MakeLimiter) -> None:
    limiter = make()
    account = Limit("login:account:a@example.org", 2, 900)
    assert await limiter.hit(account) is None
    assert await limiter.hit(account) is None
    assert await limiter.hit(account) is not None
    await limiter.forget(account.key)
    assert await limiter.hit(account) is None
    assert await limiter.hit(account) is not None
    await limiter.forget("login:account:nobody@example.org")  # nothing to give back
    await limiter.reset(account.key)
    assert await limiter.hit(account) is None


async def test_a_limit_of_zero_allows_nothing(make: MakeLimiter) -> None:
    assert await make().hit(Limit("closed", 0, 60)) == pytest.approx(60)


async def test_hits_at_once_from_many_workers_take_exactly_the_limit(make: MakeLimiter) -> None:
    workers = [make() for _ in range(4)]
    pair = Limit("login:pair:192.0.2.9 a@example.org", 5, 900)
    address = Limit("login:ip:192.0.2.9", 40, 900)
    answers = await asyncio.gather(
        *(workers[n % 4].hit(pair, address) for n in range(200)),
        *(workers[n % 4].hit(Limit(f"pair:{n}", 5, 900), address) for n in range(200)),
    )
    assert sum(answer is None for answer in answers) == 40
    assert sum(answer is None for answer in answers[:200]) <= 5


async def test_redis_uses_its_own_clock_and_expires_keys(redis_prefix: str) -> None:
    limiter = RedisRateLimiter.from_url(REDIS_URL, prefix=redis_prefix)
    try:
        frames = Limit("ws:1", 2, 0.3)
        assert await limiter.hit(frames) is None
        assert await limiter.hit(frames) is None
        wait = await limiter.hit(frames)
        assert wait is not None and 0 < wait <= 0.3
        ttl = await limiter.redis.pttl(redis_prefix + frames.key)
        assert 0 < ttl <= 300
        await asyncio.sleep(wait + 0.05)  # the window itself: nothing to await but time
        assert await limiter.hit(frames) is None
    finally:
        await limiter.aclose()


async def test_memory_keeps_long_windows_when_pruning_short_ones(clock: FakeClock) -> None:
    limiter = MemoryRateLimiter(clock=clock, max_keys=10)
    sign_in = Limit("login:pair:192.0.2.1 a@example.org", 1, 900)
    assert await limiter.hit(sign_in) is None
    clock.advance(60)
    # A flood of short-lived keys (frames of many sockets) fills the table.
    for n in range(50):
        assert await limiter.hit(Limit(f"ws:{n}", 40, 10)) is None
        clock.advance(1)
    assert await limiter.hit(sign_in) is not None
