"""A room's sessions: scheduling, opening and closing them.

Every change here follows one path: read the room row under lock, check the domain
rule, write the change and an event with the room's next `seq` in the same
transaction, and publish the event after commit (`outbox.committing`). The room's
state codec is `room_state`, its reads `room_reads`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.floor_state import budgets_wire, open_tally, settle
from forum.actions.meetings import append_scheduled, check_open_meeting
from forum.actions.outbox import committing
from forum.actions.room_reads import RoomKey, locked, member_of
from forum.actions.room_state import calendar_facts, mark_revised, session_wire, turn_of
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.events import append_event
from forum.db.models import Attendance, Presence, Room, RoomSession, User
from forum.domain.sessions import (
    SessionFormat,
    SessionStatus,
    check_close_session,
    check_open_session,
    check_schedule_session,
    clean_session_text,
)
from forum.domain.voice import check_conference_url
from forum.errors import N_, ErrorCode, ForumError
from forum.text import render_markdown_async
from forum.wire.events import SessionClosed, SessionOpened


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
    session: AsyncSession, broker: Broker, key: RoomKey, *, user: User, draft: SessionDraft
) -> RoomSession:
    # Cleaned before rendering, so that the stored agenda and its HTML agree and the
    # rendering stays out of the write transaction.
    title, agenda = clean_session_text(draft.title, draft.agenda)
    agenda_html = await render_markdown_async(agenda) if agenda else ""
    async with committing(session, broker) as outbox:
        room = await locked(session, key)
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
        event = await append_scheduled(session, room, row, actor_id=user.id)
        outbox.event(event)
    return row


async def _session_in(session: AsyncSession, room: Room, session_id: int) -> RoomSession:
    row = await session.get(RoomSession, session_id, populate_existing=True)
    if row is None or row.room_id != room.id:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such session in this room."))
    return row


async def do_open_session(
    session: AsyncSession, broker: Broker, key: RoomKey, *, user: User, session_id: int
) -> RoomSession:
    async with committing(session, broker) as outbox:
        room = await locked(session, key)
        actor = await member_of(session, room, user)
        row = await _session_in(session, room, session_id)
        await check_open_meeting(session, room)
        check_open_session(
            is_chair=actor.is_chair,
            status=SessionStatus(row.status),
            another_open=room.open_session_id is not None,
        )
        before = calendar_facts(row)
        row.status = SessionStatus.OPEN.value
        row.opened_at = utcnow()
        mark_revised(row, before)
        room.open_session_id = row.id
        room.queue, room.floor, room.spoken = [], None, {}
        room.floor_tally = open_tally(row.family_budgets or {})
        room.side_turns = {}
        # Whoever is already in the room attends from the opening.
        present = await session.execute(
            select(Presence.user_id, Presence.seat, Presence.family)
            .where(Presence.room_id == room.id)
            .distinct()
        )
        for user_id, seat, family in present:
            session.add(Attendance(session_id=row.id, user_id=user_id, seat=seat, family=family))
        opened: SessionOpened = {
            "session": session_wire(row),
            "queue": [],
            "floor": None,
            "spoken": {},
            "budgets": budgets_wire(room),
        }
        event = await append_event(
            session, room, "session", "open", opened, actor_id=user.id, session_id=row.id
        )
        row.open_seq = event.seq
        outbox.event(event)
    return row


async def do_close_session(
    session: AsyncSession, broker: Broker, key: RoomKey, *, user: User, session_id: int
) -> RoomSession:
    async with committing(session, broker) as outbox:
        room = await locked(session, key)
        actor = await member_of(session, room, user)
        row = await _session_in(session, room, session_id)
        check_close_session(is_chair=actor.is_chair, status=SessionStatus(row.status))
        before = calendar_facts(row)
        row.status = SessionStatus.CLOSED.value
        row.closed_at = utcnow()
        mark_revised(row, before)
        room.open_session_id = None
        # A turn still running ends with the session: its time is in the record.
        ended = settle(room, turn_of(room), utcnow())
        room.queue, room.floor, room.spoken = [], None, {}
        room.floor_tally = {}
        closed: SessionClosed = {
            "session": None,
            "closed": session_wire(row),
            "queue": [],
            "floor": None,
            "spoken": {},
            "budgets": {},
            "ended": ended,
        }
        event = await append_event(
            session, room, "session", "close", closed, actor_id=user.id, session_id=row.id
        )
        row.close_seq = event.seq
        outbox.event(event)
    return row
