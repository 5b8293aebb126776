"""Group commit: writes that arrive while one transaction is in flight wait, and go
together in the next.

A join is a short write transaction, and on SQLite every writer of the process queues
for one lock (`forum.db.engine.write_transaction`); each round trip to the database
thread is made while holding it. A thousand people joining at once would hold it a
thousand times over. Instead the first write starts a transaction at once, those that
arrive meanwhile gather, and the next transaction does them all, at most `limit` at a
time: the same statements for one as for hundreds.

Each item still gets its own answer: `handle` returns one outcome per item, in order,
a result or the exception to raise in its caller (a refusal of one is not a failure of
the others). An exception out of `handle` itself (the database gone) is every item's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_LIMIT = 256


class GroupCommit(Generic[T, R]):
    """`await batcher.submit(item)`: the item's outcome, once its batch has committed."""

    def __init__(
        self,
        handle: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]],
        *,
        limit: int = DEFAULT_LIMIT,
        abandoned: Callable[[T, R], None] | None = None,
        name: str = "group-commit",
    ) -> None:
        self._handle = handle
        self._limit = limit
        # Told the result of an item whose caller was cancelled once its batch had begun:
        # the write is done, and nobody is there to undo it (a seat taken for a
        # connection that went meanwhile).
        self._abandoned = abandoned
        self._name = name
        self._pending: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._task: asyncio.Task[None] | None = None
        # Batches done, and the size of the largest: what tests and operators look at.
        self.batches = 0
        self.largest = 0

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        entry = (item, future)
        self._pending.append(entry)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)
        try:
            # Shielded: a caller that goes does not cancel the batch the others are in.
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if entry in self._pending:
                self._pending.remove(entry)
            else:
                future.add_done_callback(lambda done: self._abandon(item, done))
            raise

    def _abandon(self, item: T, future: asyncio.Future[R]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        if self._abandoned is not None:
            self._abandoned(item, future.result())

    async def close(self) -> None:
        """Wait for the batches under way and those waiting to finish."""
        while self._task is not None:
            # Waited for, not awaited: a batch cancelled meanwhile is not this caller's.
            await asyncio.wait({self._task})

    async def _run(self) -> None:
        try:
            while self._pending:
                batch = [
                    self._pending.popleft() for _ in range(min(self._limit, len(self._pending)))
                ]
                self.batches += 1
                self.largest = max(self.largest, len(batch))
                await self._commit(batch)
        finally:
            self._task = None

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        outcomes: Sequence[R | BaseException]
        try:
            outcomes = await self._handle([item for item, _ in batch])
        except Exception as error:  # noqa: BLE001 - told to every caller, who raises it
            outcomes = [error] * len(batch)
        except BaseException:
            # Cancelled itself (the loop is closing): nobody waits for ever.
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
