"""What the equity figures read: the sides (north, south) of the people who spoke, and
a room's closed sessions over a period with their transcript events."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.models import RoomEvent, RoomSession, User
from forum.domain.regions import side_of

PERIOD_SESSIONS_MAX = 200


async def sides_of_users(session: AsyncSession, user_ids: Collection[int]) -> dict[int, str | None]:
    """Each person's side from the country on their profile; a deleted account has none."""
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.country).where(User.id.in_(user_ids)))
    return {user_id: side_of(country or "") for user_id, country in rows}


async def closed_sessions_between(
    session: AsyncSession, room_id: int, start: datetime, end: datetime
) -> Sequence[RoomSession]:
    """The room's sessions closed, opened from `start` up to (not including) `end`."""
    return (
        await session.scalars(
            select(RoomSession)
            .where(
                RoomSession.room_id == room_id,
                RoomSession.status == "closed",
                RoomSession.opened_at >= start,
                RoomSession.opened_at < end,
            )
            .order_by(RoomSession.opened_at, RoomSession.id)
            .limit(PERIOD_SESSIONS_MAX)
        )
    ).all()


async def session_events(
    session: AsyncSession, row: RoomSession, types: Collection[str], *, limit: int
) -> Sequence[RoomEvent]:
    """A session's events of `types`, from its opening to its close (or to now)."""
    query = select(RoomEvent).where(
        RoomEvent.room_id == row.room_id,
        RoomEvent.seq >= (row.open_seq or 0),
        RoomEvent.session_id == row.id,
        RoomEvent.type.in_(types),
    )
    if row.close_seq is not None:
        query = query.where(RoomEvent.seq <= row.close_seq)
    return (await session.scalars(query.order_by(RoomEvent.seq).limit(limit))).all()
