"""A room's events in `seq` order on this worker, gaps filled from the database.

Events of a room may reach the broker out of order (two writers commit 5 then 6 and
publish 6 then 5), or not at all (a publish that failed after commit). They are
delivered in `seq` order; a gap that the broker does not fill within GAP_WAIT_S is
filled from the database. A lost last event leaves no gap to notice, so the hub
listens to the broker's commit notices, which every action sends after commit whatever
its transport (`forum.actions.outbox`), and `catch_up` (run by the heartbeat,
`forum.ws.timers`) compares every room with the database for what other workers lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from forum.broker import Message, room_channel
from forum.db.events import events_after
from forum.db.models import Room
from forum.wire.room import Floor
from forum.ws.delivery import RoomFanout, offer
from forum.ws.direct_send import Outgoing
from forum.ws.presence_merge import merge_presence
from forum.ws.protocol import encode_bytes

GAP_WAIT_S = 0.5
ROOM_PREFIX = room_channel(0)[:-1]
# Told a room's floor whenever this worker learns it: on opening the room here, on each
# floor or session event, and None when the room closes here (`forum.ws.timers`).
FloorWatcher = Callable[[int, Floor | None], None]


class RoomOrder:
    """The hub's ordering of its rooms' events (the hub holds the rooms)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    rooms: dict[int, RoomFanout]
    floor_watcher: FloorWatcher | None
    # Events read from the database because the broker did not bring them.
    gap_fills: int

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        raise NotImplementedError

    async def catch_up(self) -> None:
        """Fill what the broker lost: compare every room here with the database."""
        if not self.rooms:
            return
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(Room.id, Room.last_seq).where(Room.id.in_(list(self.rooms)))
            )
        for room_id, last_seq in rows:
            self._known(room_id, last_seq)

    def _on_room(self, fanout: RoomFanout, message: Message) -> None:
        seq = message.get("seq")
        if seq is None:
            merge_presence(fanout, message)
            return
        if seq < fanout.next_seq:
            return
        if seq > fanout.next_seq:
            fanout.pending[seq] = message
            self._expect_gap(fanout)
            return
        self._deliver(fanout, message)
        self._drain(fanout)

    def _on_commit(self, channel: str, seq: int) -> None:
        if channel.startswith(ROOM_PREFIX):
            self._known(int(channel[len(ROOM_PREFIX) :]), seq)

    def _known(self, room_id: int, seq: int) -> None:
        """`seq` is committed in the room: if its event does not arrive within
        GAP_WAIT_S (its publish failed), it is read from the database."""
        fanout = self.rooms.get(room_id)
        if fanout is None or seq < fanout.next_seq:
            return
        fanout.known_seq = max(fanout.known_seq, seq)
        self._expect_gap(fanout)

    def _expect_gap(self, fanout: RoomFanout) -> None:
        if fanout.gap_timer is None:
            fanout.gap_timer = asyncio.get_running_loop().call_later(
                GAP_WAIT_S, lambda: self.spawn(self._fill_gap(fanout))
            )

    def _drain(self, fanout: RoomFanout) -> None:
        while fanout.next_seq in fanout.pending:
            self._deliver(fanout, fanout.pending.pop(fanout.next_seq))
        if (
            not fanout.pending
            and fanout.known_seq < fanout.next_seq
            and fanout.gap_timer is not None
        ):
            fanout.gap_timer.cancel()
            fanout.gap_timer = None

    def _deliver(self, fanout: RoomFanout, message: Message) -> None:
        seq = int(message["seq"])
        fanout.next_seq = seq + 1
        offer(fanout, Outgoing(seq, encode_bytes(dict(message))))
        # Only an event that says what the floor is now sets its timer: scheduling or
        # editing another session leaves a running turn's timer alone.
        if message.get("type") in {"floor", "session"} and "floor" in message:
            self._floor(fanout.room_id, message.get("floor"))

    def _floor(self, room_id: int, floor: Floor | None) -> None:
        if self.floor_watcher is not None:
            self.floor_watcher(room_id, floor)

    async def _fill_gap(self, fanout: RoomFanout) -> None:
        fanout.gap_timer = None
        upto = max([*fanout.pending, fanout.known_seq])
        if upto < fanout.next_seq:
            return
        async with self.sessionmaker() as session:
            events = await events_after(
                session,
                fanout.room_id,
                fanout.next_seq - 1,
                limit=upto - fanout.next_seq + 1,
                upto=upto,
            )
        self.gap_fills += 1
        for event in events:
            if event.seq >= fanout.next_seq:
                fanout.pending.pop(event.seq, None)
                self._deliver(fanout, event.wire())
        for seq in [seq for seq in fanout.pending if seq < fanout.next_seq]:
            del fanout.pending[seq]
        # Events that arrived while the database was read may follow on now.
        self._drain(fanout)
        if fanout.pending and self.rooms.get(fanout.room_id) is fanout and not fanout.gap_timer:
            self._expect_gap(fanout)
