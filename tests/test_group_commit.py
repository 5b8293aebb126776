"""Group commit (`forum.db.group_commit`): what arrives while a batch is in flight goes
in the next, each caller gets its own outcome, and a caller that goes leaves the others
alone."""

from __future__ import annotations

import asyncio

import pytest

from forum.db.group_commit import GroupCommit
from forum.errors import N_, ErrorCode, ForumError


class Recorder:
    """A handler that records its batches, waits for `release` and doubles numbers,
    refusing odd ones when told to."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.refuse_odd = False
        self.fail: Exception | None = None

    async def __call__(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(items)
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return [
            ForumError(ErrorCode.FORBIDDEN, N_("No.")) if self.refuse_odd and n % 2 else n * 2
            for n in items
        ]


async def test_what_arrives_in_flight_goes_together_in_the_next_batch() -> None:
    handler = Recorder()
    batcher: GroupCommit[int, int] = GroupCommit(handler, limit=4)
    handler.release.clear()
    first = asyncio.create_task(batcher.submit(0))
    await asyncio.sleep(0)
    # The first batch is in flight: the others wait, then go four at a time.
    rest = [asyncio.create_task(batcher.submit(n)) for n in range(1, 10)]
    await asyncio.sleep(0)
    handler.release.set()
    assert await first == 0
    assert await asyncio.gather(*rest) == [n * 2 for n in range(1, 10)]
    assert handler.batches == [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert (batcher.batches, batcher.largest) == (4, 4)
    await batcher.close()


async def test_each_caller_gets_its_own_refusal() -> None:
    handler = Recorder()
    handler.refuse_odd = True
    batcher: GroupCommit[int, int] = GroupCommit(handler)
    outcomes = await asyncio.gather(*(batcher.submit(n) for n in range(4)), return_exceptions=True)
    assert outcomes[0] == 0 and outcomes[2] == 4
    assert [type(outcomes[n]) for n in (1, 3)] == [ForumError, ForumError]
    assert handler.batches == [[0, 1, 2, 3]]


async def test_a_failed_batch_fails_every_caller_in_it_and_not_the_next() -> None:
    handler = Recorder()
    handler.fail = OSError("the database is away")
    batcher: GroupCommit[int, int] = GroupCommit(handler)
    outcomes = await asyncio.gather(*(batcher.submit(n) for n in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, OSError) for outcome in outcomes)
    handler.fail = None
    assert await batcher.submit(5) == 10


async def test_a_caller_that_goes_before_its_batch_is_left_out() -> None:
    handler = Recorder()
    batcher: GroupCommit[int, int] = GroupCommit(handler)
    handler.release.clear()
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0)
    gone = asyncio.create_task(batcher.submit(2))
    stays = asyncio.create_task(batcher.submit(3))
    await asyncio.sleep(0)
    gone.cancel()
    handler.release.set()
    assert (await first, await stays) == (2, 6)
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert handler.batches == [[1], [3]]


async def test_a_caller_that_goes_during_its_batch_is_told_of_as_abandoned() -> None:
    handler = Recorder()
    abandoned: list[tuple[int, int]] = []
    batcher: GroupCommit[int, int] = GroupCommit(
        handler, abandoned=lambda item, result: abandoned.append((item, result))
    )
    handler.release.clear()
    gone = asyncio.create_task(batcher.submit(4))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert handler.batches == [[4]]
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    handler.release.set()
    await batcher.close()
    await asyncio.sleep(0)
    # Its write was done: whoever owns it undoes it.
    assert abandoned == [(4, 8)]


async def test_an_abandoned_refusal_needs_no_undoing() -> None:
    handler = Recorder()
    handler.refuse_odd = True
    abandoned: list[tuple[int, int]] = []
    batcher: GroupCommit[int, int] = GroupCommit(
        handler, abandoned=lambda item, result: abandoned.append((item, result))
    )
    handler.release.clear()
    gone = asyncio.create_task(batcher.submit(3))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gone.cancel()
    handler.release.set()
    await batcher.close()
    await asyncio.sleep(0)
    assert abandoned == []


async def test_a_cancelled_batch_cancels_its_callers() -> None:
    handler = Recorder()
    batcher: GroupCommit[int, int] = GroupCommit(handler)
    handler.release.clear()
    waiting = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    running = [t for t in asyncio.all_tasks() if t.get_name() == "group-commit"]
    assert len(running) == 1
    running[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await batcher.close()
