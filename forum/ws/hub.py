"""This worker's fan-out of room events to its connections: order, gaps, delivery.

One broker subscription per room per worker, however many connections it has there.
Each event is encoded once and the same string queued to every connection in the
room (`forum.ws.connection` holds a connection's queue and its life).

Events of a room may reach the broker out of order (two writers commit 5 then 6 and
publish 6 then 5), or not at all (a publish that failed after commit). The hub delivers
them in `seq` order; a gap that the broker does not fill within GAP_WAIT_S is filled
from the database. A lost last event leaves no gap to notice, so the hub listens to the
broker's commit notices, which every action sends after commit whatever its transport
(`forum.actions.outbox`), and `catch_up` (run by the heartbeat, `forum.ws.timers`)
compares every room with the database for what other workers lost.

A room larger than DELIVERY_CHUNK is offered each frame a chunk of connections at a
time, yielding to the event loop between chunks, in the order the frames came. A frame
offered to thousands of connections wakes as many senders; offered in one pass, every
database round trip of the next action, and every ping, would wait behind all of them.

The hub writes nothing: giving up a connection's seat when it goes is `Seating`'s
(`forum.ws.seating`), and the clocks (floor expiry, the presence heartbeat, the
watchdog) are `forum.ws.timers`'.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket

from forum.auth import Principal
from forum.broker import Broker, Listener, Message, room_channel, user_channel
from forum.connection_caps import Admission
from forum.db.events import events_after
from forum.db.models import Room
from forum.wire.events import PresenceUpdate
from forum.wire.room import Floor, PresenceGone, PresenceSnapshot, PresenceUser, SpectatorCount
from forum.ws.connection import DEFAULT_STALL_S, Connection, Item, Phase
from forum.ws.protocol import CLOSE_UNAUTHENTICATED, encode
from forum.ws.seat_notices import apply_seat_notice

log = logging.getLogger(__name__)

GAP_WAIT_S = 0.5
PRESENCE_FLUSH_S = 0.1
DELIVERY_CHUNK = 200
ROOM_PREFIX = room_channel(0)[:-1]
# Told a room's floor whenever this worker learns it: on opening the room here, on each
# floor or session event, and None when the room closes here (`forum.ws.timers`).
FloorWatcher = Callable[[int, Floor | None], None]
# A person's newest presence entry: their seat, or that they left.
PresenceMark = PresenceUser | PresenceGone


class Seating(Protocol):
    """What a connection leaving a room gives up there: its seat or spectator count."""

    async def give_up(self, connection: Connection, room_id: int, *, seat: bool) -> None: ...


@dataclass
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
    outbox: deque[Item] = field(default_factory=deque)
    offering: asyncio.Task[None] | None = None


class Hub:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        broker: Broker,
        *,
        send_queue: int,
        seating: Seating | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.broker = broker
        self.send_queue = send_queue
        self.worker = str(uuid.uuid4())
        self.rooms: dict[int, RoomFanout] = {}
        self.users: dict[int, set[Connection]] = {}
        self.connections: set[Connection] = set()
        self.seating = seating
        self.floor_watcher: FloorWatcher | None = None
        # Events read from the database because the broker did not bring them.
        self.gap_fills = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self.broker.on_commit(self._on_commit)

    async def stop(self) -> None:
        self.broker.off_commit(self._on_commit)
        # Together: their seats are given up in a few transactions, not one each.
        gone = await asyncio.gather(
            *(self.disconnect(connection) for connection in list(self.connections)),
            return_exceptions=True,
        )
        for failure in gone:
            if isinstance(failure, Exception):
                log.error("disconnect failed", exc_info=failure)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("hub task failed", exc_info=task.exception())

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

    def stalled(self, now: float) -> list[Connection]:
        """Connections whose peer has taken nothing for longer than its stall timeout."""
        return [c for c in self.connections if c.stalled(now)]

    # -- connections ----------------------------------------------------------------

    def connection(
        self,
        websocket: WebSocket,
        principal: Principal | None,
        *,
        stall_timeout: float = DEFAULT_STALL_S,
        admission: Admission | None = None,
    ) -> Connection:
        return Connection(
            websocket,
            principal,
            queue_size=self.send_queue,
            hub=self,
            stall_timeout=stall_timeout,
            admission=admission,
        )

    async def connect(self, connection: Connection) -> None:
        self.connections.add(connection)
        connection.start()
        if connection.principal is None:
            return
        user_id = connection.principal.user.id
        first = user_id not in self.users
        self.users.setdefault(user_id, set()).add(connection)
        if first:
            await self.broker.subscribe(user_channel(user_id), self._on_user)

    async def disconnect(self, connection: Connection) -> None:
        """Forget a connection: leave its room (and seat), stop its sender."""
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        connection.begin_closing()
        # First, before anything that can fail: a dead peer's task may never end.
        if connection.admission is not None:
            await connection.admission.release()
        await self.leave(connection)
        await connection.stop_sender()
        if connection.principal is not None:
            user_id = connection.principal.user.id
            mine = self.users.get(user_id)
            if mine is not None:
                mine.discard(connection)
                if not mine:
                    del self.users[user_id]
                    await self.broker.unsubscribe(user_channel(user_id), self._on_user)
        connection.move(Phase.CLOSED)

    def _on_user(self, channel: str, message: Message) -> None:
        user_id = int(channel.split(":", 1)[1])
        if message.get("type") == "seat":
            apply_seat_notice(self, user_id, message)
            return
        if message.get("type") != "session" or message.get("op") != "ended":
            return
        for connection in list(self.users.get(user_id, ())):
            assert connection.principal is not None  # noqa: S101 - only signed-in ones here
            if connection.principal.session_id == message.get("session_id"):
                connection.close_soon(CLOSE_UNAUTHENTICATED, "signed out")

    # -- rooms ----------------------------------------------------------------------

    async def enter(self, connection: Connection, room_id: int) -> None:
        """Start delivering the room's events to `connection` (held until released)."""
        fanout = self.rooms.get(room_id)
        if fanout is None:
            fanout = self.rooms[room_id] = RoomFanout(room_id)
            try:
                await self._subscribe(fanout)
            finally:
                fanout.ready.set()
        await fanout.ready.wait()
        connection.room_id = room_id
        fanout.connections.add(connection)

    def presence_snapshot(self, room_id: int, ver: int) -> PresenceSnapshot | None:
        """The room's presence at version `ver`, if a join here read it already."""
        fanout = self.rooms.get(room_id)
        if fanout is None or fanout.snapshot is None or fanout.snapshot["ver"] != ver:
            return None
        return fanout.snapshot

    def keep_presence_snapshot(self, room_id: int, snapshot: PresenceSnapshot) -> None:
        fanout = self.rooms.get(room_id)
        if fanout is not None and (
            fanout.snapshot is None or fanout.snapshot["ver"] <= snapshot["ver"]
        ):
            fanout.snapshot = snapshot

    async def _subscribe(self, fanout: RoomFanout) -> None:
        async with self.sessionmaker() as session:
            room = await session.get(Room, fanout.room_id)
        if room is not None:
            fanout.next_seq = room.last_seq + 1
            self._floor(fanout.room_id, room.floor)

        def listener(channel: str, message: Message) -> None:
            self._on_room(fanout, message)

        fanout.listener = listener
        await self.broker.subscribe(room_channel(fanout.room_id), listener)

    async def leave(self, connection: Connection, *, release_seat: bool = True) -> None:
        """Stop delivering the room to `connection`, and give up its seat (unless a
        join has moved it to another room already) or its spectator count."""
        room_id = connection.room_id
        if room_id is None:
            return
        connection.room_id = None
        connection.left_room()
        fanout = self.rooms.get(room_id)
        if fanout is not None:
            fanout.connections.discard(connection)
            if not fanout.connections and self.rooms.get(room_id) is fanout:
                del self.rooms[room_id]
                for timer in (fanout.gap_timer, fanout.presence_timer):
                    if timer is not None:
                        timer.cancel()
                self._floor(room_id, None)
                if fanout.offering is not None:
                    fanout.offering.cancel()
                if fanout.listener is not None:
                    await self.broker.unsubscribe(room_channel(room_id), fanout.listener)
        if self.seating is not None:
            await self.seating.give_up(connection, room_id, seat=release_seat)

    def _on_room(self, fanout: RoomFanout, message: Message) -> None:
        seq = message.get("seq")
        if seq is None:
            self._merge_presence(fanout, message)
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
        self._offer(fanout, seq, encode(dict(message)))
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

    def _merge_presence(self, fanout: RoomFanout, message: Message) -> None:
        update = cast(PresenceUpdate, message)
        for entry in update.get("users", ()):
            self._keep_newer(fanout, entry)
        for gone in update.get("left", ()):
            self._keep_newer(fanout, {**gone, "left": True})
        counted = update.get("spectators")
        if counted and (fanout.spectators is None or fanout.spectators["ver"] < counted["ver"]):
            fanout.spectators = counted
        if fanout.presence_timer is None:
            fanout.presence_timer = asyncio.get_running_loop().call_later(
                PRESENCE_FLUSH_S, self._flush_presence, fanout
            )

    @staticmethod
    def _keep_newer(fanout: RoomFanout, entry: PresenceMark) -> None:
        known = fanout.presence.get(entry["user_id"])
        if known is None or known["ver"] < entry["ver"]:
            fanout.presence[entry["user_id"]] = entry

    def _flush_presence(self, fanout: RoomFanout) -> None:
        fanout.presence_timer = None
        entries, fanout.presence = list(fanout.presence.values()), {}
        counted, fanout.spectators = fanout.spectators, None
        frame: PresenceUpdate = {
            "type": "presence",
            "op": "update",
            "room": fanout.room_id,
            "users": [entry for entry in entries if "left" not in entry],
            "left": [
                {"user_id": entry["user_id"], "ver": entry["ver"]}
                for entry in entries
                if "left" in entry
            ],
        }
        if counted is not None:
            frame["spectators"] = counted
        self._offer(fanout, None, encode(frame))

    def _offer(self, fanout: RoomFanout, seq: int | None, text: str) -> None:
        """Offer a frame to every connection in the room, after the frames before it."""
        if fanout.offering is None and len(fanout.connections) <= DELIVERY_CHUNK:
            for connection in fanout.connections:
                connection.offer(seq, text)
            return
        fanout.outbox.append((seq, text))
        if fanout.offering is None:
            fanout.offering = asyncio.create_task(
                self._offer_in_chunks(fanout), name=f"ws-offer-{fanout.room_id}"
            )

    async def _offer_in_chunks(self, fanout: RoomFanout) -> None:
        try:
            while fanout.outbox:
                seq, text = fanout.outbox.popleft()
                connections = list(fanout.connections)
                for start in range(0, len(connections), DELIVERY_CHUNK):
                    for connection in connections[start : start + DELIVERY_CHUNK]:
                        # Gone while earlier chunks were offered: it has left the room.
                        if connection in fanout.connections:
                            connection.offer(seq, text)
                    await asyncio.sleep(0)
        finally:
            fanout.offering = None
