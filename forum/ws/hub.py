"""This worker's fan-out of room events to its connections.

One broker subscription per room per worker, however many connections it has there.
The hub holds the connections, the signed-in users' channels, and the rooms; what a
room's share holds and how a frame reaches its connections is `forum.ws.delivery`,
the order of its events and the filling of gaps `forum.ws.ordering`, the merging of
its presence `forum.ws.presence_merge`, and a connection's queue and life
`forum.ws.connection`.

The hub writes nothing: giving up a connection's seat when it goes is `Seating`'s
(`forum.ws.seating`), and the clocks (floor expiry, the presence heartbeat, the
watchdog) are `forum.ws.timers`'.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket

from forum.auth import Principal
from forum.broker import Broker, Message, room_channel, user_channel
from forum.connection_caps import Admission
from forum.db.models import Room
from forum.wire.room import PresenceSnapshot
from forum.ws.connection import DEFAULT_STALL_S, Connection, Phase
from forum.ws.delivery import Load, RoomFanout
from forum.ws.ordering import GAP_WAIT_S, FloorWatcher, RoomOrder
from forum.ws.protocol import CLOSE_UNAUTHENTICATED
from forum.ws.seat_notices import apply_seat_notice

__all__ = ["GAP_WAIT_S", "Hub", "RoomFanout", "Seating"]

log = logging.getLogger(__name__)


class Seating(Protocol):
    """What a connection leaving a room gives up there: its seat or spectator count."""

    async def give_up(self, connection: Connection, room_id: int, *, seat: bool) -> None: ...


class Hub(RoomOrder):
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
        # Shared by the rooms' pumps, which give way while frames are being handled.
        self.load = Load()
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
        user_id = connection.user_id
        if user_id is None:
            return
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
        user_id = connection.user_id
        if user_id is not None:
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
            if connection.session_id == message.get("session_id"):
                connection.close_soon(CLOSE_UNAUTHENTICATED, "signed out")

    # -- rooms ----------------------------------------------------------------------

    async def enter(self, connection: Connection, room_id: int) -> None:
        """Start delivering the room's events to `connection` (held until released)."""
        fanout = self.rooms.get(room_id)
        if fanout is None:
            fanout = self.rooms[room_id] = RoomFanout(room_id, self.load)
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
                fanout.close()
                self._floor(room_id, None)
                if fanout.listener is not None:
                    await self.broker.unsubscribe(room_channel(room_id), fanout.listener)
        if self.seating is not None:
            await self.seating.give_up(connection, room_id, seat=release_seat)
