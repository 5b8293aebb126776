"""What a refused frame must leave as it was: the rows of the room tables, every
room's `seq`, and the room's channel on the broker (nothing published)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select

from forum.actions.rooms import room_channel
from forum.broker import Message
from forum.db.models import Attendance, Presence, Room, RoomEvent, RoomSession
from tests.support import LiveServer


async def room_snapshot(server: LiveServer) -> dict[str, Any]:
    async with server.state["sessionmaker"]() as session:
        counts: dict[str, Any] = {}
        for model in (RoomEvent, RoomSession, Presence, Attendance):
            counts[model.__tablename__] = await session.scalar(
                select(func.count()).select_from(model)
            )
        rows = await session.execute(select(Room.id, Room.last_seq, Room.presence_ver))
        counts["rooms"] = sorted(tuple(row) for row in rows)
    return counts


class Published:
    """What the broker carried on a room's channel."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, _channel: str, message: Message) -> None:
        self.messages.append(message)


@asynccontextmanager
async def published(server: LiveServer, room_id: int) -> AsyncIterator[Published]:
    broker = server.state["broker"]
    recorder = Published()
    await broker.subscribe(room_channel(room_id), recorder)
    try:
        yield recorder
    finally:
        await broker.unsubscribe(room_channel(room_id), recorder)
