"""What a refused frame must leave as it was: the rows of the room tables, every
room's `seq`, and the room's channel on the broker (nothing published)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select

from forum.broker import Message, room_channel
from forum.db.models import Attendance, Presence, Room, RoomEvent, RoomSession
from tests.support import LiveServer


async def room_snapshot(server: LiveServer) -> dict[str, Any]:
    """Row counts of the room tables and every room's `seq`, in one round trip."""
    counts = {
        model.__tablename__: select(func.count()).select_from(model).scalar_subquery()
        for model in (RoomEvent, RoomSession, Presence, Attendance)
    }
    seqs = select(func.sum(Room.last_seq)).scalar_subquery()
    presence = select(func.sum(Room.presence_ver)).scalar_subquery()
    async with server.state["sessionmaker"]() as session:
        row = (await session.execute(select(*counts.values(), seqs, presence))).one()
    return dict(zip([*counts, "rooms.last_seq", "rooms.presence_ver"], row, strict=True))


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
