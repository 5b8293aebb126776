"""Which sessions a calendar lists: a room's, a group's, a person's.

Each is one statement over sessions joined to their room's group: the latest
`CALENDAR_MAX` by start, so that a feed stays small however long the forum runs,
listed oldest first. Cancelled sessions stay, so that a calendar that had them
learns they are off.

A group takes part in the sessions of its room and in the consultations it is a side
of (`sessions_of_group`); a person in those of the groups they belong to, those they
sat in, and the meetings they are named to: a briefing's invitees and chairs, a
consultation's delegates (`sessions_of_person`). A meeting's room has no group: its
sessions are listed with a stand-in named after the meeting (`schedule_queries.listed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.models import (
    Attendance,
    Consultation,
    Group,
    Meeting,
    MeetingPerson,
    Membership,
    Room,
    RoomSession,
)
from forum.db.schedule_queries import ListedSession, listed

CALENDAR_MAX = 500


Listed = Select[RoomSession, Group | None, Meeting | None]


def _calendar(where: ColumnElement[bool]) -> Listed:
    return (
        select(RoomSession, Group, Meeting)
        .join(Room, Room.id == RoomSession.room_id)
        .outerjoin(Group, Group.id == Room.group_id)
        .outerjoin(Meeting, Meeting.room_id == Room.id)
        .where(where)
        .order_by(RoomSession.starts_at.desc(), RoomSession.id.desc())
        .limit(CALENDAR_MAX)
    )


async def _listed(session: AsyncSession, query: Listed) -> list[ListedSession]:
    rows: Sequence[Any] = (await session.execute(query)).all()
    return [listed(row, group, meeting) for row, group, meeting in reversed(rows)]


async def sessions_of_room(session: AsyncSession, room_id: int) -> list[ListedSession]:
    return await _listed(session, _calendar(RoomSession.room_id == room_id))


async def sessions_of_group(session: AsyncSession, group_id: int) -> list[ListedSession]:
    """The sessions a group takes part in: its room's, and its consultations'."""
    sides = select(Consultation.meeting_id).where(
        or_(Consultation.host_group_id == group_id, Consultation.guest_group_id == group_id)
    )
    return await _listed(session, _calendar(or_(Room.group_id == group_id, Meeting.id.in_(sides))))


async def sessions_of_person(session: AsyncSession, user_id: int) -> list[ListedSession]:
    """The sessions a person takes part in: those of every group they belong to, every
    one they took a seat in (as an observer of another group's, say), and those of the
    meetings they are named to."""
    member_of = select(Membership.group_id).where(Membership.user_id == user_id)
    seated_in = select(Attendance.session_id).where(Attendance.user_id == user_id)
    named_to = select(MeetingPerson.meeting_id).where(MeetingPerson.user_id == user_id)
    return await _listed(
        session,
        _calendar(
            or_(
                Room.group_id.in_(member_of),
                RoomSession.id.in_(seated_in),
                Meeting.id.in_(named_to),
            )
        ),
    )
