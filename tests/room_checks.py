"""What a refused frame must leave as it was: the rows of the room tables and every
room's `seq` (what the broker carried: the `capture_events` fixture)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

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
