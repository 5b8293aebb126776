"""A room's share of this worker, and the delivery of its frames to its connections.

Each event is encoded and framed once (`forum.ws.direct_send.Outgoing`) and the same
bytes offered to every connection in the room; a connection writes them to its
transport at once, or queues them if it is behind (`forum.ws.connection`).

A room of at most DELIVERY_CHUNK connections, with nothing waiting, is offered a frame
at once. A larger room, or one whose pump is at work, has its frames wait in its outbox
for the pump: a task that takes everything waiting as one batch (`Batch`, the frames'
bytes joined once) and offers it to each connection in turn, in one write to each,
then takes the next batch. It works for at most SLICE_S at a time, then yields; while
this worker is handling client frames (actions on their way to the database, whose
acks wait), its runs are shorter (BUSY_SLICE_S) and each is followed by a rest twice as
long (BUSY_REST_S), so that the pump takes at most a third of the loop from the
receive → commit → ack path, however many listeners. (The writes of connections that
are behind, from their queues, are not the pump's and not counted in that third.) The frames that
come during a round wait for the next, so the further the pump falls behind, the more
frames each write carries and the less each frame costs. A connection reached while
its transport is full queues the batch, and one whose queue overflows is closed with
CLOSE_SLOW_CONSUMER and resumes with `since` (`forum.ws.connection`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

from forum.broker import Listener, Message
from forum.wire.room import PresenceGone, PresenceSnapshot, PresenceUser, SpectatorCount
from forum.ws.connection import Connection
from forum.ws.direct_send import Batch, Outgoing

DELIVERY_CHUNK = 200
# The pump's longest run between two yields to the event loop; while client frames are
# being handled, a shorter run, and a rest after it in which the loop waits for the
# database (and its threads get the core) instead of delivering.
SLICE_S = 0.002
BUSY_SLICE_S = 0.0005
BUSY_REST_S = 0.001


@dataclass(slots=True, eq=False)
class Load:
    """What this worker's connections are doing, shared by its rooms' pumps."""

    # Client frames read and not yet answered (`forum.ws.inbox`).
    handling: int = 0


# A person's newest presence entry: their seat, or that they left.
PresenceMark = PresenceUser | PresenceGone


@dataclass(slots=True, eq=False)
class RoomFanout:
    """This worker's share of one room: its connections and the order of its events."""

    room_id: int
    load: Load = field(default_factory=Load)
    next_seq: int = 1
    connections: set[Connection] = field(default_factory=set)
    pending: dict[int, Message] = field(default_factory=dict)
    gap_timer: asyncio.TimerHandle | None = None
    presence: dict[int, PresenceMark] = field(default_factory=dict)
    presence_timer: asyncio.TimerHandle | None = None
    # The newest spectator count seen, `{"count", "ver"}`, until the next flush.
    spectators: SpectatorCount | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    listener: Listener | None = None
    # The highest seq known to be committed (a commit notice, or the database).
    known_seq: int = 0
    # The last presence snapshot a join read here. `presence_ver` in the database moves
    # with every change anyone sees, on any worker, so a join that finds the room at the
    # snapshot's version can send it without reading the presence rows again.
    snapshot: PresenceSnapshot | None = None
    # Frames waiting to be offered in chunks, and the task offering them.
    outbox: deque[Outgoing] = field(default_factory=deque)
    offering: asyncio.Task[None] | None = None

    def close(self) -> None:
        """The room is gone from this worker: stop its clocks and its delivery."""
        for timer in (self.gap_timer, self.presence_timer):
            if timer is not None:
                timer.cancel()
        if self.offering is not None:
            self.offering.cancel()


def offer(fanout: RoomFanout, frame: Outgoing) -> None:
    """Offer a frame to every connection in the room, after the frames before it."""
    if fanout.offering is None and len(fanout.connections) <= DELIVERY_CHUNK:
        for connection in fanout.connections:
            connection.offer(frame)
        return
    fanout.outbox.append(frame)
    if fanout.offering is None:
        fanout.offering = asyncio.create_task(_pump(fanout), name=f"ws-offer-{fanout.room_id}")


async def _pump(fanout: RoomFanout) -> None:
    clock = time.perf_counter
    outbox = fanout.outbox
    try:
        load = fanout.load
        began = clock()
        while outbox:
            batch = Batch(list(outbox))
            outbox.clear()
            members = fanout.connections
            for connection in list(members):
                # Gone while the pump yielded: it has left the room.
                if connection in members:
                    connection.offer_batch(batch)
                worked = clock() - began
                if load.handling:
                    if worked > BUSY_SLICE_S:
                        await asyncio.sleep(BUSY_REST_S)
                        began = clock()
                elif worked > SLICE_S:
                    await asyncio.sleep(0)
                    began = clock()
            if outbox and load.handling:
                # The next round waits a rest: the writes go first, and the frames
                # that gather meanwhile go out together.
                await asyncio.sleep(BUSY_REST_S)
                began = clock()
    finally:
        fanout.offering = None
