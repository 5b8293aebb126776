"""Reading rooms: finding one, who someone is in it, its state, sessions and archive.

Reads write nothing; the lookups an action makes inside its own transaction (`locked`,
`member_of`) are here too, so that pages, the API and actions find a room one way. An
action names its room by a `RoomKey`: the room's id (a WebSocket has joined it) or its
group's slug (an HTTP path names it), and resolves it under the lock it writes with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.room_state import session_wire, state_wire
from forum.db.equity_queries import sides_of_users
from forum.db.events import lock_group_room, lock_room
from forum.db.meeting_queries import meeting_in_room, meeting_title, person_in, stand_in_group
from forum.db.models import (
    Attendance,
    Group,
    Meeting,
    MeetingPerson,
    Membership,
    Room,
    RoomEvent,
    RoomSession,
    User,
)
from forum.db.queries import require_group, role_in
from forum.domain.equity import equity
from forum.domain.meetings import MeetingRole, address, meeting_id_in, room_role
from forum.domain.sessions import SessionStatus, can_chair
from forum.domain.vocabulary import Role
from forum.domain.voice import speaking_counts
from forum.errors import N_, ErrorCode, ForumError
from forum.wire.room import RoomState

TRANSCRIPT_TYPES = ("session", "floor", "intervention")
# A room: its id, or its group's slug (a meeting's room: its address, `meeting:<id>`).
RoomKey = int | str
TRANSCRIPT_MAX_EVENTS = 20_000


@dataclass(frozen=True)
class Member:
    """Someone in relation to a room: their role in its group and whether they chair.

    In a meeting's room (no group) the role comes from the meeting: its chairs chair,
    the people named to it sit as members, and nobody else is admitted, the
    secretariat included (`forum/domain/meetings.py`).
    """

    user: User
    role: Role | None
    admitted: bool = True
    side: int | None = None
    in_meeting: bool = False

    @property
    def is_chair(self) -> bool:
        stands_in = self.user.is_secretariat and not self.in_meeting
        return can_chair(self.role, is_secretariat=stands_in)


async def member_of(session: AsyncSession, room: Room, user: User) -> Member:
    if room.group_id is None:
        meeting = await meeting_in_room(session, room.id)
        named = await person_in(session, meeting.id, user.id) if meeting else None
        return Member(
            user=user,
            role=room_role(MeetingRole(named.role) if named else None),
            admitted=named is not None,
            side=named.side_group_id if named else None,
            in_meeting=True,
        )
    return Member(user=user, role=await role_in(session, room.group_id, user.id))


async def members_of(session: AsyncSession, room: Room, users: Sequence[User]) -> dict[int, Member]:
    """`member_of` for many people at once, by id: one statement for a group's room,
    two for a meeting's."""
    ids = sorted({user.id for user in users})
    if room.group_id is None:
        meeting = await meeting_in_room(session, room.id)
        named = {}
        if meeting is not None:
            people = await session.scalars(
                select(MeetingPerson).where(
                    MeetingPerson.meeting_id == meeting.id, MeetingPerson.user_id.in_(ids)
                )
            )
            named = {person.user_id: person for person in people}
        members = {}
        for user in users:
            person = named.get(user.id)
            members[user.id] = Member(
                user=user,
                role=room_role(MeetingRole(person.role) if person else None),
                admitted=person is not None,
                side=person.side_group_id if person else None,
                in_meeting=True,
            )
        return members
    rows = await session.execute(
        select(Membership.user_id, Membership.role).where(
            Membership.group_id == room.group_id, Membership.user_id.in_(ids)
        )
    )
    roles = {row.user_id: row.role for row in rows}
    return {
        user.id: Member(user=user, role=Role(roles[user.id]) if user.id in roles else None)
        for user in users
    }


async def _meeting_room(session: AsyncSession, meeting: Meeting | None) -> tuple[Group, Room]:
    room = await session.get(Room, meeting.room_id) if meeting else None
    if meeting is None or room is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such room."))
    title = await meeting_title(session, meeting)
    return stand_in_group(meeting, address=address(meeting.id), title=title), room


async def room_for(session: AsyncSession, slug: str) -> tuple[Group, Room]:
    """The group and its room, made with the group (the seed; migration 0006 for groups
    made before): reading a room writes nothing. A meeting's room answers to its
    address (`meeting:<id>`), with a stand-in for the group (`stand_in_group`)."""
    meeting_id = meeting_id_in(slug)
    if meeting_id is not None:
        return await _meeting_room(session, await session.get(Meeting, meeting_id))
    # One statement, the group and its room: every join of a room asks it.
    found = (
        await session.execute(
            select(Group, Room).outerjoin(Room, Room.group_id == Group.id).where(Group.slug == slug)
        )
    ).first()
    # No group: refused as `require_group` refuses, naming it.
    group = found[0] if found else await require_group(session, slug)
    room = found[1] if found else None
    if room is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("This group has no room."))
    return group, room


async def room_by_id(session: AsyncSession, room_id: int) -> tuple[Group, Room]:
    row = (
        await session.execute(
            select(Group, Room).join(Room, Room.group_id == Group.id).where(Room.id == room_id)
        )
    ).first()
    if row is None:
        return await _meeting_room(session, await meeting_in_room(session, room_id))
    group, room = row
    return group, room


async def locked(session: AsyncSession, key: RoomKey) -> Room:
    """The room, locked for the rest of the transaction; not found as `room_for` (by
    slug or a meeting's address) or `room_by_id` (by id) refuses it."""
    meeting_id = meeting_id_in(key) if isinstance(key, str) else None
    if meeting_id is not None:
        # A meeting's room answers to its address, as `room_for` reads it.
        meeting = await session.get(Meeting, meeting_id)
        key = meeting.room_id if meeting else 0
    if isinstance(key, int):
        room = await lock_room(session, key)
        if room is None:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such room."))
        return room
    room = await lock_group_room(session, key)
    if room is None:
        await require_group(session, key)
        raise ForumError(ErrorCode.NOT_FOUND, N_("This group has no room."))
    return room


async def open_session_of(session: AsyncSession, room: Room) -> RoomSession | None:
    if room.open_session_id is None:
        return None
    return await session.get(RoomSession, room.open_session_id)


async def get_room_state(session: AsyncSession, room_id: int) -> RoomState:
    """Fresh state, read in one statement so that `seq` and the state agree."""
    group, room = await room_by_id(session, room_id)
    return state_wire(room, group, await open_session_of(session, room))


async def list_sessions(
    session: AsyncSession, room_id: int, *, status: SessionStatus | None = None, limit: int = 100
) -> Sequence[RoomSession]:
    query = select(RoomSession).where(RoomSession.room_id == room_id)
    if status is not None:
        query = query.where(RoomSession.status == status.value)
    query = query.order_by(RoomSession.starts_at.desc(), RoomSession.id.desc()).limit(limit)
    return (await session.scalars(query)).all()


async def get_transcript(session: AsyncSession, session_id: int) -> dict[str, Any]:
    """The public archive of a closed session: what was said, who had the floor (in the
    room or by voice), who spoke how often, and attendance counted by stakeholder family
    and seat. Sessions not yet closed are not found, so that a live sitting is not
    readable by everyone."""
    row = await session.get(RoomSession, session_id)
    if row is None or row.status != SessionStatus.CLOSED.value:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such closed session."))
    group, room = await room_by_id(session, row.room_id)
    if room.group_id is None:
        meeting = await meeting_in_room(session, room.id)
        if meeting is not None and meeting.transcript_closed:
            # Its existence, date, participants and outcome are on the meeting's page.
            raise ForumError(ErrorCode.NOT_FOUND, N_("This meeting's transcript is closed."))
    events = (
        await session.scalars(
            select(RoomEvent)
            .where(
                RoomEvent.room_id == row.room_id,
                RoomEvent.seq >= (row.open_seq or 0),
                RoomEvent.seq <= (row.close_seq or 0),
                # Scheduling or editing another session meanwhile is that one's event.
                RoomEvent.session_id == row.id,
                RoomEvent.type.in_(TRANSCRIPT_TYPES),
            )
            .order_by(RoomEvent.seq)
            .limit(TRANSCRIPT_MAX_EVENTS)
        )
    ).all()
    counts = await session.execute(
        select(Attendance.family, Attendance.seat, func.count())
        .where(Attendance.session_id == row.id)
        .group_by(Attendance.family, Attendance.seat)
    )
    attendance: dict[str, dict[str, int]] = {}
    for family, seat, count in counts:
        attendance.setdefault(family, {})[seat] = count
    people = await session.scalar(
        select(func.count(func.distinct(Attendance.user_id))).where(Attendance.session_id == row.id)
    )
    entries = [transcript_entry(event) for event in events]
    return {
        "session": session_wire(row),
        "group": {"slug": group.slug, "name": group.name},
        "attendance": {"people": people or 0, "by_family": attendance},
        "events": entries,
        "speakers": speaking_counts(entries),
        "equity": equity(entries, await sides_of_users(session, speakers_of(entries))),
    }


def speakers_of(entries: Sequence[dict[str, Any]]) -> set[int]:
    people = {entry["user_id"] for entry in entries if entry.get("user_id") is not None}
    return people | {entry["ended"]["user_id"] for entry in entries if entry.get("ended")}


def transcript_entry(event: RoomEvent) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "seq": event.seq,
        "type": event.type,
        "op": event.op,
        "at": event.created_at.isoformat(),
    }
    data = event.data
    if event.type == "intervention":
        entry.update(
            {key: data[key] for key in ("user_id", "name", "family", "seat", "body", "on_floor")}
        )
    elif event.type == "floor":
        floor = data.get("floor")
        entry["user_id"] = floor["user_id"] if floor else data.get("user_id")
        entry["name"] = floor["name"] if floor else data.get("name")
        entry["family"] = floor["family"] if floor else data.get("family")
        entry["reason"] = data.get("reason")
        if floor:
            entry["limit_s"] = floor["limit_s"]
            entry["point_of_order"] = bool(floor.get("point_of_order"))
        if event.op == "give":
            entry["note"] = data.get("note")
        if event.op == "voice":
            entry.update(seat=data["seat"], duration_s=data["duration_s"])
    if data.get("ended"):
        # The turn this event ended, and the seconds it was spoken (forum/domain/equity.py).
        entry["ended"] = data["ended"]
    return entry
