"""A room's share of this worker, and the delivery of a frame to its connections.

Each event is encoded and framed once (`forum.ws.direct_send.Outgoing`) and the same
bytes offered to every connection in the room; a connection writes them to its
transport at once, or queues them if it is behind (`forum.ws.connection`).

A room larger than DELIVERY_CHUNK is offered each frame a chunk of connections at a
time, yielding to the event loop between chunks, in the order the frames came. Offered
in one pass to thousands of connections, every database round trip of the next action,
and every ping, would wait behind all of them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from forum.broker import Listener, Message
from forum.wire.room import PresenceGone, PresenceSnapshot, PresenceUser, SpectatorCount
from forum.ws.connection import Connection
from forum.ws.direct_send import Outgoing

DELIVERY_CHUNK = 200


# A person's newest presence entry: their seat, or that they left.
PresenceMark = PresenceUser | PresenceGone


@dataclass(slots=True, eq=False)
class RoomFanout:
    """This worker's share of one room: its connections and the order of its events."""

    room_id: int
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
        fanout.offering = asyncio.create_task(
            _offer_in_chunks(fanout), name=f"ws-offer-{fanout.room_id}"
        )


async def _offer_in_chunks(fanout: RoomFanout) -> None:
    try:
        while fanout.outbox:
            frame = fanout.outbox.popleft()
            connections = list(fanout.connections)
            for start in range(0, len(connections), DELIVERY_CHUNK):
                for connection in connections[start : start + DELIVERY_CHUNK]:
                    # Gone while earlier chunks were offered: it has left the room.
                    if connection in fanout.connections:
                        connection.offer(frame)
                await asyncio.sleep(0)
    finally:
        fanout.offering = None
