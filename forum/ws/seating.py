"""What a connection takes when it joins a room and gives up when it leaves or goes:
its seat, or its place among the spectators, through the actions that tell the room.

Joins and leaves are group-committed (`forum.db.group_commit`): those that arrive while
a transaction is in flight are seated, or let go, together in the next, so that a room
that thousands join at once, or a worker that stops with thousands connected, costs a
few transactions rather than one each. The hub calls `give_up` when it stops delivering
a room to a connection; it is kept out of the hub so that delivery writes nothing itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from forum.actions.seats import Arrival, Departure, SeatRequest, WatchRequest, do_arrive, do_depart
from forum.broker import Broker
from forum.db.group_commit import DEFAULT_LIMIT, GroupCommit
from forum.db.models import User
from forum.domain.vocabulary import Seat
from forum.errors import ForumError
from forum.ws.connection import Connection

log = logging.getLogger(__name__)


class ActionSeating:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        broker: Broker,
        *,
        batch: int = DEFAULT_LIMIT,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.broker = broker
        self.arrivals: GroupCommit[Arrival, ForumError | None] = GroupCommit(
            self._arrive, limit=batch, abandoned=self._abandoned, name="ws-arrivals"
        )
        self.departures: GroupCommit[Departure, None] = GroupCommit(
            self._depart, limit=batch, name="ws-departures"
        )
        self._tasks: set[asyncio.Task[Any]] = set()

    async def take(
        self, connection: Connection, room_id: int, seat: Seat, *, user: User, worker: str
    ) -> None:
        """Seat the connection (moving it from the seat it holds), or raise the refusal."""
        request = SeatRequest(room_id, user, seat, connection.id, worker)
        refused = await self.arrivals.submit(request)
        if refused is not None:
            raise refused

    async def watch(self, connection: Connection, room_id: int, *, worker: str) -> None:
        refused = await self.arrivals.submit(WatchRequest(room_id, connection.id, worker))
        if refused is not None:
            raise refused

    async def give_up(self, connection: Connection, room_id: int, *, seat: bool) -> None:
        """Give up the spectator count, and the seat unless `seat` is False (a join
        has moved it to another room already)."""
        departures = []
        if connection.watching:
            connection.watching = False
            departures.append(Departure(room_id, connection.id))
        if seat and connection.user_id is not None and connection.seat is not None:
            connection.seat = None
            departures.append(Departure(room_id, connection.id, connection.user_id))
        for departure in departures:
            await self.departures.submit(departure)

    async def close(self) -> None:
        """Finish the joins and leaves under way (the worker is stopping)."""
        await self.arrivals.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.departures.close()

    async def _arrive(self, arrivals: list[Arrival]) -> list[ForumError | None]:
        async with self.sessionmaker() as session:
            return await do_arrive(session, self.broker, arrivals)

    async def _depart(self, departures: list[Departure]) -> list[None]:
        async with self.sessionmaker() as session:
            await do_depart(session, self.broker, departures)
        return [None] * len(departures)

    def _abandoned(self, arrival: Arrival, refused: ForumError | None) -> None:
        """A join whose connection went while it was being seated: the seat is given up
        at once, or the room would show someone nobody is."""
        if refused is not None:
            return
        user_id = arrival.user.id if isinstance(arrival, SeatRequest) else None
        task = asyncio.create_task(
            self.departures.submit(Departure(arrival.room_id, arrival.connection_id, user_id))
        )
        self._tasks.add(task)
        task.add_done_callback(self._undone)

    def _undone(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The heartbeat stops refreshing the seat with the worker; the sweep takes it.
            log.error("giving up an abandoned seat failed", exc_info=task.exception())
