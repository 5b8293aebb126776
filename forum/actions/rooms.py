"""Rooms and their sessions: scheduling, opening, closing; the room's state and archive.

Every change here follows one path: read the room row under lock, check the domain
rule, write the change and an event with the room's next `seq` in the same
transaction, and publish the event after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.engine import write_transaction
from forum.db.events import append_event, lock_room
from forum.db.models import (
    Attendance,
    Group,
    Presence,
    Room,
    RoomEvent,
    RoomSession,
    User,
)
from forum.db.queries import require_group, role_in
from forum.domain.seats import DEFAULT_OBSERVER_POLICY, ObserverPolicy, parse_observer_policy
from forum.domain.sessions import (
    SessionFormat,
    SessionStatus,
    can_chair,
    check_close_session,
    check_open_session,
    check_schedule_session,
    clean_session_text,
)
from forum.domain.speaking import QueueEntry, QueuePolicy, Turn, projected_order
from forum.domain.vocabulary import Family, Role, Seat
from forum.domain.voice import check_conference_url, speaking_counts
from forum.errors import N_, ErrorCode, ForumError
from forum.text import render_markdown_async

# The keys of a room's state that events replace: a client applies an event by
# copying these keys from it into its state.
STATE_KEYS = ("session", "queue_policy", "observer_seats", "queue", "floor", "spoken")
TRANSCRIPT_TYPES = ("session", "floor", "intervention")
TRANSCRIPT_MAX_EVENTS = 20_000

log = logging.getLogger(__name__)


def room_channel(room_id: int) -> str:
    return f"room:{room_id}"


async def publish(broker: Broker, room_id: int, message: Mapping[str, Any]) -> None:
    """Publish after commit. A failure is logged, not raised: the change is committed
    and its event row is there, which hubs fill gaps from; the caller must not answer
    a done change with an error."""
    try:
        await broker.publish(room_channel(room_id), message)
    except Exception:
        log.exception("publishing to room %d failed", room_id)


@dataclass(frozen=True)
class Member:
    """Someone in relation to a room: their role in its group and whether they chair."""

    user: User
    role: Role | None

    @property
    def is_chair(self) -> bool:
        return can_chair(self.role, is_secretariat=self.user.is_secretariat)


def person(user: User) -> dict[str, Any]:
    """How a person appears in room frames and transcripts."""
    return {
        "user_id": user.id,
        "name": user.display_name,
        "family": user.family,
        "organization": user.organization,
        "country": user.country,
    }


async def member_of(session: AsyncSession, room: Room, user: User) -> Member:
    return Member(user=user, role=await role_in(session, room.group_id, user.id))


async def room_for(session: AsyncSession, slug: str) -> tuple[Group, Room]:
    """The group and its room, made with the group (the seed; migration 0006 for groups
    made before): reading a room writes nothing."""
    group = await require_group(session, slug)
    room = await session.scalar(select(Room).where(Room.group_id == group.id))
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
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such room."))
    group, room = row
    return group, room


async def locked(session: AsyncSession, room_id: int) -> Room:
    room = await lock_room(session, room_id)
    if room is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such room."))
    return room


# -- the live state kept on the room row ------------------------------------------


def queue_of(room: Room) -> list[QueueEntry]:
    return [
        QueueEntry(
            user_id=item["user_id"],
            family=Family(item["family"]),
            seat=Seat(item["seat"]),
            raised=item["raised"],
        )
        for item in room.queue
    ]


def spoken_of(room: Room) -> dict[Family, int]:
    return {Family(family): count for family, count in room.spoken.items()}


def turn_of(room: Room) -> Turn | None:
    floor = room.floor
    if floor is None:
        return None
    return Turn(
        user_id=floor["user_id"],
        family=Family(floor["family"]),
        started_at=datetime.fromisoformat(floor["started_at"]),
        limit_s=floor["limit_s"],
        extended_s=floor["extended_s"],
    )


def floor_wire(turn: Turn, *, name: str, turn_seq: int) -> dict[str, Any]:
    ends_at = turn.ends_at
    return {
        "user_id": turn.user_id,
        "name": name,
        "family": turn.family.value,
        "started_at": turn.started_at.isoformat(),
        "limit_s": turn.limit_s,
        "extended_s": turn.extended_s,
        "ends_at": ends_at.isoformat() if ends_at else None,
        "turn": turn_seq,
    }


def set_queue(room: Room, entries: Sequence[QueueEntry], names: dict[int, str]) -> None:
    """Store the queue in the order the room's policy would call it."""
    order = projected_order(QueuePolicy(room.queue_policy), entries, spoken_of(room))
    room.queue = [
        {
            "user_id": entry.user_id,
            "name": names[entry.user_id],
            "family": entry.family.value,
            "seat": entry.seat.value,
            "raised": entry.raised,
        }
        for entry in order
    ]


def queue_names(room: Room) -> dict[int, str]:
    return {item["user_id"]: item["name"] for item in room.queue}


def observer_policy_of(room: Room) -> ObserverPolicy:
    try:
        return parse_observer_policy(room.observer_seats)
    except ForumError:
        return DEFAULT_OBSERVER_POLICY


def session_wire(row: RoomSession) -> dict[str, Any]:
    return {
        "id": row.id,
        "room": row.room_id,
        "title": row.title,
        "agenda": row.agenda,
        "agenda_html": row.agenda_html,
        "format": row.format,
        "status": row.status,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "opened_at": row.opened_at.isoformat() if row.opened_at else None,
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
    }


async def open_session_of(session: AsyncSession, room: Room) -> RoomSession | None:
    if room.open_session_id is None:
        return None
    return await session.get(RoomSession, room.open_session_id)


def state_wire(room: Room, group: Group, open_session: RoomSession | None) -> dict[str, Any]:
    """The room's state at `seq`; the events after `seq` apply to it."""
    return {
        "room": room.id,
        "group": group.slug,
        "name": group.name,
        "seq": room.last_seq,
        "session": session_wire(open_session) if open_session else None,
        "queue_policy": room.queue_policy,
        "observer_seats": observer_policy_of(room).to_json(),
        "queue": list(room.queue),
        "floor": room.floor,
        "spoken": dict(room.spoken),
    }


async def get_room_state(session: AsyncSession, room_id: int) -> dict[str, Any]:
    """Fresh state, read in one statement so that `seq` and the state agree."""
    group, room = await room_by_id(session, room_id)
    return state_wire(room, group, await open_session_of(session, room))


# -- sessions ----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionDraft:
    title: str
    agenda: str
    starts_at: datetime
    ends_at: datetime
    format: SessionFormat
    # Blank: no conference (forum/domain/voice.py checks it).
    conference_url: str | None = None


async def do_schedule_session(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, draft: SessionDraft
) -> RoomSession:
    # Cleaned before rendering, so that the stored agenda and its HTML agree and the
    # rendering stays out of the write transaction.
    title, agenda = clean_session_text(draft.title, draft.agenda)
    agenda_html = await render_markdown_async(agenda) if agenda else ""
    async with write_transaction(session):
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        check_schedule_session(
            is_chair=actor.is_chair,
            title=title,
            agenda=agenda,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
        )
        conference_url = check_conference_url(draft.conference_url)
        row = RoomSession(
            room_id=room.id,
            title=title,
            agenda=agenda,
            agenda_html=agenda_html,
            format=draft.format.value,
            status=SessionStatus.SCHEDULED.value,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            created_by=user.id,
            created_at=utcnow(),
            conference_url=conference_url,
        )
        session.add(row)
        await session.flush()
        event = await append_event(
            session,
            room,
            "session",
            "schedule",
            {"scheduled": session_wire(row)},
            actor_id=user.id,
            session_id=row.id,
        )
    await publish(broker, room_id, event.wire())
    return row


async def _session_in(session: AsyncSession, room: Room, session_id: int) -> RoomSession:
    row = await session.get(RoomSession, session_id, populate_existing=True)
    if row is None or row.room_id != room.id:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such session in this room."))
    return row


async def do_open_session(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, session_id: int
) -> RoomSession:
    async with write_transaction(session):
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        row = await _session_in(session, room, session_id)
        check_open_session(
            is_chair=actor.is_chair,
            status=SessionStatus(row.status),
            another_open=room.open_session_id is not None,
        )
        row.status = SessionStatus.OPEN.value
        row.opened_at = utcnow()
        room.open_session_id = row.id
        room.queue, room.floor, room.spoken = [], None, {}
        # Whoever is already in the room attends from the opening.
        present = await session.execute(
            select(Presence.user_id, Presence.seat, Presence.family)
            .where(Presence.room_id == room.id)
            .distinct()
        )
        for user_id, seat, family in present:
            session.add(Attendance(session_id=row.id, user_id=user_id, seat=seat, family=family))
        event = await append_event(
            session,
            room,
            "session",
            "open",
            {"session": session_wire(row), "queue": [], "floor": None, "spoken": {}},
            actor_id=user.id,
            session_id=row.id,
        )
        row.open_seq = event.seq
    await publish(broker, room_id, event.wire())
    return row


async def do_close_session(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, session_id: int
) -> RoomSession:
    async with write_transaction(session):
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        row = await _session_in(session, room, session_id)
        check_close_session(is_chair=actor.is_chair, status=SessionStatus(row.status))
        row.status = SessionStatus.CLOSED.value
        row.closed_at = utcnow()
        room.open_session_id = None
        room.queue, room.floor, room.spoken = [], None, {}
        event = await append_event(
            session,
            room,
            "session",
            "close",
            {
                "session": None,
                "closed": session_wire(row),
                "queue": [],
                "floor": None,
                "spoken": {},
            },
            actor_id=user.id,
            session_id=row.id,
        )
        row.close_seq = event.seq
    await publish(broker, room_id, event.wire())
    return row


# -- reads for pages and the API ----------------------------------------------------


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
    group, _room = await room_by_id(session, row.room_id)
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
    }


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
        if event.op == "voice":
            entry.update(seat=data["seat"], duration_s=data["duration_s"])
    return entry
