"""Reads of meetings (briefings, consultations): by room, by group, for the schedule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.db.models import Consultation, Group, Meeting, MeetingPerson, RoomSession, User

MEETINGS_MAX = 50


@dataclass(frozen=True)
class ListedMeeting:
    meeting: Meeting
    session: RoomSession
    consultation: Consultation | None
    host: Group | None = None
    guest: Group | None = None


async def meeting_in_room(session: AsyncSession, room_id: int) -> Meeting | None:
    return await session.scalar(select(Meeting).where(Meeting.room_id == room_id))


async def meeting_title(session: AsyncSession, meeting: Meeting) -> str:
    if meeting.session_id is None:
        return ""
    return (
        await session.scalar(select(RoomSession.title).where(RoomSession.id == meeting.session_id))
        or ""
    )


def stand_in_group(meeting: Meeting, *, address: str, title: str) -> Group:
    """What a meeting's room shows where a group's room shows its group: the room's
    address and the meeting's title. Never added to the session, never stored."""
    return Group(id=None, slug=address, name=title, kind=meeting.kind, family="", region=None)


async def person_in(session: AsyncSession, meeting_id: int, user_id: int) -> MeetingPerson | None:
    return await session.get(MeetingPerson, (meeting_id, user_id))


async def people_of(session: AsyncSession, meeting_id: int) -> Sequence[tuple[MeetingPerson, User]]:
    rows = await session.execute(
        select(MeetingPerson, User)
        .join(User, User.id == MeetingPerson.user_id)
        .where(MeetingPerson.meeting_id == meeting_id)
        .order_by(MeetingPerson.created_at, User.display_name, User.id)
    )
    return [(person, user) for person, user in rows]


async def list_meetings(
    session: AsyncSession,
    *,
    group_id: int | None = None,
    after: datetime | None = None,
    limit: int = MEETINGS_MAX,
) -> list[ListedMeeting]:
    """Meetings soonest first: all, or one group's consultations (either side); with
    `after`, those not yet over."""
    host, guest = aliased(Group), aliased(Group)
    query = (
        select(Meeting, RoomSession, Consultation, host, guest)
        .join(RoomSession, RoomSession.id == Meeting.session_id)
        .outerjoin(Consultation, Consultation.meeting_id == Meeting.id)
        .outerjoin(host, host.id == Consultation.host_group_id)
        .outerjoin(guest, guest.id == Consultation.guest_group_id)
    )
    if group_id is not None:
        query = query.where(
            or_(Consultation.host_group_id == group_id, Consultation.guest_group_id == group_id)
        )
    if after is not None:
        query = query.where(RoomSession.ends_at >= after)
    rows = await session.execute(query.order_by(RoomSession.starts_at, Meeting.id).limit(limit))
    return [ListedMeeting(*found) for found in rows]
