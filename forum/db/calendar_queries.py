"""Which sessions a calendar lists: a room's, a group's, a person's.

Each is one statement over sessions joined to their room's group: the latest
`CALENDAR_MAX` by start, so that a feed stays small however long the forum runs,
listed oldest first. Cancelled sessions stay, so that a calendar that had them
learns they are off.

These are where other ways of taking part are added: a group takes part in the
sessions of its room (`sessions_of_group`); a person in those of the groups they
belong to and those they sat in (`sessions_of_person`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.models import Attendance, Group, Membership, Room, RoomSession
from forum.db.schedule_queries import ListedSession

CALENDAR_MAX = 500


def _calendar(where: ColumnElement[bool]) -> Select[RoomSession, Group]:
    return (
        select(RoomSession, Group)
        .join(Room, Room.id == RoomSession.room_id)
        .join(Group, Group.id == Room.group_id)
        .where(where)
        .order_by(RoomSession.starts_at.desc(), RoomSession.id.desc())
        .limit(CALENDAR_MAX)
    )


async def _listed(session: AsyncSession, query: Select[RoomSession, Group]) -> list[ListedSession]:
    rows: Sequence[Any] = (await session.execute(query)).all()
    return [ListedSession(row, group) for row, group in reversed(rows)]


async def sessions_of_room(session: AsyncSession, room_id: int) -> list[ListedSession]:
    return await _listed(session, _calendar(RoomSession.room_id == room_id))


async def sessions_of_group(session: AsyncSession, group_id: int) -> list[ListedSession]:
    """The sessions a group takes part in: for now, those of its own room."""
    return await _listed(session, _calendar(Room.group_id == group_id))


async def sessions_of_person(session: AsyncSession, user_id: int) -> list[ListedSession]:
    """The sessions a person takes part in: those of every group they belong to, and
    every one they took a seat in (as an observer of another group's, say)."""
    member_of = select(Membership.group_id).where(Membership.user_id == user_id)
    seated_in = select(Attendance.session_id).where(Attendance.user_id == user_id)
    return await _listed(
        session,
        _calendar(or_(Room.group_id.in_(member_of), RoomSession.id.in_(seated_in))),
    )
