"""This worker's connections, and the fan-out of room events to them.

One broker subscription per room per worker, however many connections it has there.
Each event is encoded once and the same string queued to every connection in the
room. Every connection has a bounded send queue drained by its own task, so a slow
client never slows the room: when its queue is full it is closed with
CLOSE_SLOW_CONSUMER and resumes from its last `seq`.

A peer that stops reading blocks its sender; one blocked for longer than its stall
timeout (the ping timeout: a live peer answers a ping in that time) is dropped, with its
presence and seat, even when the server cannot complete a close with it.

Events of a room may reach the broker out of order (two writers commit 5 then 6 and
publish 6 then 5), or not at all (a publish that failed after commit). The hub delivers
them in `seq` order; a gap that the broker does not fill within GAP_WAIT_S is filled
from the database. A lost last event leaves no gap to notice, so the endpoint tells the
hub the `seq` of each event its actions commit, and the heartbeat compares every room
with the database. A connection drops any `seq` it already has, so replay on join plus
live delivery never doubles an event.

A room larger than DELIVERY_CHUNK is offered each frame a chunk of connections at a
time, yielding to the event loop between chunks, in the order the frames came. A frame
offered to thousands of connections wakes as many senders; offered in one pass, every
database round trip of the next action, and every ping, would wait behind all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketState

from forum.actions.rooms import room_channel
from forum.actions.seats import do_leave_seat, do_sweep_presence, do_touch_presence
from forum.actions.speaking import do_expire_floor
from forum.actions.spectators import do_stop_watching
from forum.auth import Principal
from forum.broker import Broker, Listener, Message, user_channel
from forum.connection_caps import Admission
from forum.db.base import utcnow
from forum.db.events import events_after
from forum.db.models import Room
from forum.domain.vocabulary import Seat
from forum.ws.protocol import CLOSE_SLOW_CONSUMER, CLOSE_UNAUTHENTICATED, encode
from forum.ws.seat_notices import apply_seat_notice

log = logging.getLogger(__name__)

GAP_WAIT_S = 0.5
PRESENCE_FLUSH_S = 0.1
HEARTBEAT_S = 10.0
WATCHDOG_S = 0.25
DEFAULT_STALL_S = 10.0
DELIVERY_CHUNK = 200
Item = tuple[int | None, str]


@dataclass(frozen=True)
class CloseAfter:
    """Close the connection once the frames queued before it are sent."""

    code: int
    reason: str


# What the send queue holds: one frame, the frames of a join (snapshot and replay) as
# one entry, so that a long replay does not count as a client falling behind, or a
# close that follows the frames queued before it.
Queued = str | list[str] | CloseAfter


class Connection:
    """One WebSocket: who is on it, which room and seat, and its send queue."""

    def __init__(
        self,
        websocket: WebSocket,
        principal: Principal | None,
        *,
        queue_size: int,
        hub: Hub,
        stall_timeout: float = DEFAULT_STALL_S,
        admission: Admission | None = None,
    ) -> None:
        self.id = str(uuid.uuid4())
        # Its slots under the connection caps, given back when the hub forgets it.
        self.admission = admission
        self.websocket = websocket
        self.principal = principal
        self.room_id: int | None = None
        self.seat: Seat | None = None
        # A signed-out connection counted among the room's spectators.
        self.watching = False
        self.last_seq = 0
        self.closing = False
        # While joining, live frames wait here until the snapshot and replay are queued.
        self.holding: list[Item] | None = None
        self._queue: asyncio.Queue[Queued] = asyncio.Queue(maxsize=queue_size)
        self._queue_size = queue_size
        self._hub = hub
        self._sender: asyncio.Task[None] | None = None
        self.stall_timeout = stall_timeout
        # When the send in progress began (loop time); None while nothing is being sent.
        self.sending_since: float | None = None

    def start(self) -> None:
        self._sender = asyncio.create_task(self._send_loop(), name=f"ws-send-{self.id}")

    def offer(self, seq: int | None, text: str) -> None:
        """Queue a frame (never blocks). `seq` frames this connection has are dropped."""
        if self.closing:
            return
        if self.holding is not None:
            self.holding.append((seq, text))
            if len(self.holding) > self._queue_size:
                self.overflow()
            return
        if seq is not None:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflow()

    def push(self, frame: dict[str, Any]) -> None:
        """Queue a frame of this connection's own (hello, ack, error, snapshot)."""
        self.offer(None, encode(frame))

    def release(self, first: list[Item], last_seq: int) -> None:
        """End the join: queue `first` (snapshot, replay), then what waited meanwhile.

        The client has everything up to `last_seq` once `first` is sent, so held
        frames at or below it are dropped.
        """
        held, self.holding = self.holding or [], None
        if self.closing:
            return
        # A new room (or a resume from an earlier `since`) starts the count afresh.
        self.last_seq = last_seq
        try:
            self._queue.put_nowait([text for _seq, text in first])
        except asyncio.QueueFull:
            self.overflow()
            return
        for seq, text in held:
            self.offer(seq, text)

    def overflow(self) -> None:
        log.info("closing slow connection %s", self.id)
        self.close_soon(CLOSE_SLOW_CONSUMER, "too slow: resume with since")

    def close_soon(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Close, at once or (`flush`) after what is already queued, such as the
        error frames that explain the close."""
        if self.closing:
            return
        self.closing = True
        if flush:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(CloseAfter(code, reason))
                return
        self._hub.spawn(self._close(code, reason))

    async def flushed(self) -> None:
        """Wait (at most the stall timeout) for the sender to finish a flushing close."""
        if self._sender is not None and not self._sender.done():
            await asyncio.wait({self._sender}, timeout=self.stall_timeout)

    async def _close(self, code: int, reason: str) -> None:
        await self.stop_sender()
        if self.websocket.application_state is WebSocketState.CONNECTED:
            # The close frame waits behind what the peer has not read; the watchdog
            # drops the peer if it never reads it.
            self.sending_since = asyncio.get_running_loop().time()
            with contextlib.suppress(Exception):
                await self.websocket.close(code, reason)
            self.sending_since = None

    def stalled(self, now: float) -> bool:
        return self.sending_since is not None and now - self.sending_since > self.stall_timeout

    async def stop_sender(self) -> None:
        if self._sender is not None and self._sender is not asyncio.current_task():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                queued = await self._queue.get()
                if isinstance(queued, CloseAfter):
                    await self._close(queued.code, queued.reason)
                    return
                for text in [queued] if isinstance(queued, str) else queued:
                    self.sending_since = loop.time()
                    await self.websocket.send_text(text)
                    self.sending_since = None
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the peer is gone
            # The receive loop may never hear of it (a transport that cannot flush is
            # never reported lost), so the hub forgets the connection now.
            self.closing = True
            self._hub.spawn(self._hub.disconnect(self))


@dataclass
class RoomFanout:
    """This worker's share of one room: its connections and the order of its events."""

    room_id: int
    next_seq: int = 1
    connections: set[Connection] = field(default_factory=set)
    pending: dict[int, Message] = field(default_factory=dict)
    gap_timer: asyncio.TimerHandle | None = None
    presence: dict[int, dict[str, Any]] = field(default_factory=dict)
    presence_timer: asyncio.TimerHandle | None = None
    # The newest spectator count seen, `{"count", "ver"}`, until the next flush.
    spectators: dict[str, int] | None = None
    floor_timer: asyncio.TimerHandle | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    listener: Listener | None = None
    # The highest seq known to be committed (from an action's answer or the database).
    known_seq: int = 0
    # The last presence snapshot a join read here. `presence_ver` in the database moves
    # with every change anyone sees, on any worker, so a join that finds the room at the
    # snapshot's version can send it without reading the presence rows again.
    snapshot: dict[str, Any] | None = None
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
    ) -> None:
        self.sessionmaker = sessionmaker
        self.broker = broker
        self.send_queue = send_queue
        self.worker = str(uuid.uuid4())
        self.rooms: dict[int, RoomFanout] = {}
        self.users: dict[int, set[Connection]] = {}
        self.connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="ws-heartbeat")
        self._watchdog = asyncio.create_task(self._watchdog_loop(), name="ws-watchdog")

    async def stop(self) -> None:
        for loop_task in (self._heartbeat, self._watchdog):
            if loop_task is not None:
                loop_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop_task
        for connection in list(self.connections):
            await self.disconnect(connection)
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

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                async with self.sessionmaker() as session:
                    await do_touch_presence(session, worker=self.worker)
                    await do_sweep_presence(session, self.broker)
                await self.catch_up()
            except Exception:
                log.exception("presence heartbeat failed")

    async def catch_up(self) -> None:
        """Fill what the broker lost: compare every room here with the database."""
        if not self.rooms:
            return
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(Room.id, Room.last_seq).where(Room.id.in_(list(self.rooms)))
            )
        for room_id, last_seq in rows:
            self.committed(room_id, last_seq)

    async def _watchdog_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCHDOG_S)
            now = loop.time()
            for connection in [c for c in self.connections if c.stalled(now)]:
                log.info("dropping stalled connection %s", connection.id)
                # Should the peer ever read again, the close tells it to resume.
                connection.overflow()
                try:
                    await self.disconnect(connection)
                except Exception:
                    log.exception("dropping connection %s failed", connection.id)

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
        connection.closing = True
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

    def presence_snapshot(self, room_id: int, ver: int) -> dict[str, Any] | None:
        """The room's presence at version `ver`, if a join here read it already."""
        fanout = self.rooms.get(room_id)
        if fanout is None or fanout.snapshot is None or fanout.snapshot["ver"] != ver:
            return None
        return fanout.snapshot

    def keep_presence_snapshot(self, room_id: int, snapshot: dict[str, Any]) -> None:
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
            if room.floor and room.floor.get("ends_at"):
                self._arm_floor_timer(fanout, room.floor)

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
        fanout = self.rooms.get(room_id)
        if fanout is not None:
            fanout.connections.discard(connection)
            if not fanout.connections and self.rooms.get(room_id) is fanout:
                del self.rooms[room_id]
                for timer in (fanout.gap_timer, fanout.presence_timer, fanout.floor_timer):
                    if timer is not None:
                        timer.cancel()
                if fanout.offering is not None:
                    fanout.offering.cancel()
                if fanout.listener is not None:
                    await self.broker.unsubscribe(room_channel(room_id), fanout.listener)
        if connection.watching:
            connection.watching = False
            async with self.sessionmaker() as session:
                await do_stop_watching(session, self.broker, room_id, connection_id=connection.id)
        if release_seat and connection.principal is not None and connection.seat is not None:
            connection.seat = None
            async with self.sessionmaker() as session:
                await do_leave_seat(
                    session,
                    self.broker,
                    room_id,
                    user=connection.principal.user,
                    connection_id=connection.id,
                )

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

    def committed(self, room_id: int, seq: int) -> None:
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
        if message.get("type") in {"floor", "session"}:
            floor = message.get("floor")
            if fanout.floor_timer is not None:
                fanout.floor_timer.cancel()
                fanout.floor_timer = None
            if floor and floor.get("ends_at"):
                self._arm_floor_timer(fanout, floor)

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
        for entry in message.get("users", ()):
            self._keep_newer(fanout, entry)
        for entry in message.get("left", ()):
            self._keep_newer(fanout, {**entry, "left": True})
        counted = message.get("spectators")
        if counted and (fanout.spectators is None or fanout.spectators["ver"] < counted["ver"]):
            fanout.spectators = counted
        if fanout.presence_timer is None:
            fanout.presence_timer = asyncio.get_running_loop().call_later(
                PRESENCE_FLUSH_S, self._flush_presence, fanout
            )

    @staticmethod
    def _keep_newer(fanout: RoomFanout, entry: dict[str, Any]) -> None:
        known = fanout.presence.get(entry["user_id"])
        if known is None or known["ver"] < entry["ver"]:
            fanout.presence[entry["user_id"]] = entry

    def _flush_presence(self, fanout: RoomFanout) -> None:
        fanout.presence_timer = None
        entries, fanout.presence = list(fanout.presence.values()), {}
        counted, fanout.spectators = fanout.spectators, None
        frame: dict[str, Any] = {
            "type": "presence",
            "op": "update",
            "room": fanout.room_id,
            "users": [entry for entry in entries if not entry.get("left")],
            "left": [
                {"user_id": entry["user_id"], "ver": entry["ver"]}
                for entry in entries
                if entry.get("left")
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

    def _arm_floor_timer(self, fanout: RoomFanout, floor: dict[str, Any]) -> None:
        ends_at = datetime.fromisoformat(floor["ends_at"])
        delay = max(0.0, (ends_at - utcnow()).total_seconds()) + 0.05
        turn = int(floor["turn"])
        fanout.floor_timer = asyncio.get_running_loop().call_later(
            delay, lambda: self.spawn(self._expire(fanout.room_id, turn))
        )

    async def _expire(self, room_id: int, turn: int) -> None:
        async with self.sessionmaker() as session:
            await do_expire_floor(session, self.broker, room_id, turn_seq=turn)
