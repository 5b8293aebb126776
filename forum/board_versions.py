"""What this worker knows of each board's change counter, so that a cached read of a
thread asks the database nothing.

Every write that changes what a board's pages show takes the board's next `seq` in the
database and, after commit, publishes it on the board's channel; the worker that
committed it is told as well (`Broker.committed`), whatever becomes of the publish.
Listening on the channels of the boards it has served, a worker knows each board's
latest `seq` without asking. It trusts what it heard only from the moment it was
listening and had read the counter (subscribed first, read second, so that nothing
falls between), and only for `trust_s` after that read: a publish lost on its way here
(Redis restarting, say) would otherwise leave the copy stale until the board's next
change. Past that the database is asked again, so a reader of another worker's write
waits at most `trust_s` even when a message is lost, and usually not at all.

A thread never changes boards, so the board of each thread read is kept too (bounded).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.posts import BOARD_PREFIX, board_channel
from forum.broker import Broker, Message
from forum.db.discussions_queries import thread_line_and_seq

THREADS_KEPT = 100_000


@dataclass(slots=True)
class _Known:
    seq: int
    read_at: float


class BoardVersions:
    def __init__(
        self,
        broker: Broker,
        *,
        trust_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._broker = broker
        self._trust_s = trust_s
        self._clock = clock
        self._boards: dict[int, _Known] = {}
        self._listening: set[int] = set()
        self._subscribing: dict[int, asyncio.Future[None]] = {}
        # The read of a board's counter under way, by board: the readers who come while
        # it is out wait for it instead of each asking the database.
        self._reading: dict[int, asyncio.Future[int | None]] = {}
        self._thread_lines: dict[int, int] = {}
        broker.on_commit(self._committed)

    def close(self) -> None:
        self._broker.off_commit(self._committed)

    def known_seq(self, thread_id: int) -> int | None:
        """The counter of the thread's board while what was heard can be trusted, else
        None (then `thread_seq` asks): a read that needs nothing else opens no session."""
        line_id = self._thread_lines.get(thread_id)
        known = self._boards.get(line_id) if line_id is not None else None
        if known is not None and self._clock() - known.read_at < self._trust_s:
            return known.seq
        return None

    async def thread_seq(self, session: AsyncSession, thread_id: int) -> int:
        """The change counter of the thread's board (404 for no such thread)."""
        line_id = self._thread_lines.get(thread_id)
        if line_id is not None:
            known = self._boards.get(line_id)
            if known is not None and self._clock() - known.read_at < self._trust_s:
                return known.seq
            pending = self._reading.get(line_id)
            if pending is not None:
                # Begun a moment ago, it is as fresh as the trust it renews; when it
                # failed (None), this reader asks for itself.
                found = await asyncio.shield(pending)
                if found is not None:
                    return found
            return await self._read_shared(session, thread_id, line_id)
        line_id, seq = await thread_line_and_seq(session, thread_id)
        if len(self._thread_lines) >= THREADS_KEPT:
            self._thread_lines.clear()
        self._thread_lines[thread_id] = line_id
        # The board was not known before this read: the next one can trust.
        await self._listen(line_id)
        return seq

    async def _read_shared(self, session: AsyncSession, thread_id: int, line_id: int) -> int:
        """The counter of a known board read again, once for all who ask meanwhile."""
        pending: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._reading[line_id] = pending
        seq: int | None = None
        try:
            # Listening before the read begins: whatever commits after it is heard.
            await self._listen(line_id)
            trusted_from = self._clock()
            _, seq = await thread_line_and_seq(session, thread_id)
            known = self._boards.get(line_id)
            self._boards[line_id] = _Known(max(seq, known.seq if known else 0), trusted_from)
            return seq
        finally:
            pending.set_result(seq)
            if self._reading.get(line_id) is pending:
                del self._reading[line_id]

    async def _listen(self, line_id: int) -> None:
        if line_id in self._listening:
            return
        pending = self._subscribing.get(line_id)
        if pending is None:
            pending = asyncio.ensure_future(
                self._broker.subscribe(board_channel(line_id), self._heard)
            )
            self._subscribing[line_id] = pending
        # Shielded: a reader who goes away does not cancel the subscription for others.
        await asyncio.shield(pending)
        self._listening.add(line_id)
        self._subscribing.pop(line_id, None)

    def _heard(self, channel: str, message: Message) -> None:
        seq = message.get("seq")
        if isinstance(seq, int):
            self._advance(channel, seq)

    def _committed(self, channel: str, seq: int) -> None:
        if channel.startswith(BOARD_PREFIX):
            self._advance(channel, seq)

    def _advance(self, channel: str, seq: int) -> None:
        known = self._boards.get(int(channel.removeprefix(BOARD_PREFIX)))
        if known is not None and seq > known.seq:
            known.seq = seq
