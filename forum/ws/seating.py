"""What a connection gives up when it leaves a room or goes: its seat, or its place
among the spectators, through the actions that tell the room.

The hub calls this when it stops delivering a room to a connection; it is kept out of
the hub so that delivery writes nothing itself.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from forum.actions.seats import do_leave_seat
from forum.actions.spectators import do_stop_watching
from forum.broker import Broker
from forum.ws.connection import Connection, signed_user


class ActionSeating:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], broker: Broker) -> None:
        self.sessionmaker = sessionmaker
        self.broker = broker

    async def give_up(self, connection: Connection, room_id: int, *, seat: bool) -> None:
        """Give up the spectator count, and the seat unless `seat` is False (a join
        has moved it to another room already)."""
        if connection.watching:
            connection.watching = False
            async with self.sessionmaker() as session:
                await do_stop_watching(session, self.broker, room_id, connection_id=connection.id)
        if seat and connection.user_id is not None and connection.seat is not None:
            connection.seat = None
            async with self.sessionmaker() as session:
                user = await signed_user(session, connection.user_id)
                if user is not None:
                    await do_leave_seat(
                        session, self.broker, room_id, user=user, connection_id=connection.id
                    )
