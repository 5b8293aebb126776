"""Editing a scheduled session (its title, agenda, format, times and conference link)
and cancelling one, before it opens."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import committing
from forum.actions.room_reads import RoomKey, locked, member_of
from forum.actions.room_state import calendar_facts, mark_revised, session_wire
from forum.actions.rooms import SessionDraft
from forum.broker import Broker
from forum.db.events import append_event
from forum.db.models import RoomSession, User
from forum.domain.sessions import SessionStatus, check_cancel_session, check_edit_session
from forum.domain.voice import check_conference_url
from forum.errors import N_, ErrorCode, ForumError
from forum.text import render_markdown_async


def _in_room(row: RoomSession | None, room_id: int) -> RoomSession:
    if row is None or row.room_id != room_id:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such session in this room."))
    return row


async def do_edit_session(
    session: AsyncSession,
    broker: Broker,
    key: RoomKey,
    *,
    user: User,
    session_id: int,
    draft: SessionDraft,
) -> RoomSession:
    """Replace what a scheduled session says; the room sees `session`/`edit` with the
    session as it now is (under `scheduled`, as a new one is announced)."""
    # Rendered before the write lock is taken: Markdown may take a while.
    agenda_html = await render_markdown_async(draft.agenda) if draft.agenda.strip() else ""
    async with committing(session, broker) as outbox:
        room = await locked(session, key)
        actor = await member_of(session, room, user)
        row = _in_room(await session.get(RoomSession, session_id, populate_existing=True), room.id)
        before = calendar_facts(row)
        row.title = check_edit_session(
            is_chair=actor.is_chair,
            status=SessionStatus(row.status),
            title=draft.title,
            agenda=draft.agenda,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
        )
        row.agenda, row.agenda_html = draft.agenda, agenda_html
        row.conference_url = check_conference_url(draft.conference_url)
        row.format = draft.format.value
        row.starts_at, row.ends_at = draft.starts_at, draft.ends_at
        mark_revised(row, before)
        event = await append_event(
            session,
            room,
            "session",
            "edit",
            {"scheduled": session_wire(row)},
            actor_id=user.id,
            session_id=row.id,
        )
        outbox.event(event)
    return row


async def do_cancel_session(
    session: AsyncSession, broker: Broker, key: RoomKey, *, user: User, session_id: int
) -> RoomSession:
    """Call off a scheduled session: it stays listed as cancelled (calendars say so),
    and the room sees `session`/`cancel` with the session as it now is."""
    async with committing(session, broker) as outbox:
        room = await locked(session, key)
        actor = await member_of(session, room, user)
        row = _in_room(await session.get(RoomSession, session_id, populate_existing=True), room.id)
        check_cancel_session(is_chair=actor.is_chair, status=SessionStatus(row.status))
        before = calendar_facts(row)
        row.status = SessionStatus.CANCELLED.value
        mark_revised(row, before)
        event = await append_event(
            session,
            room,
            "session",
            "cancel",
            {"cancelled": session_wire(row)},
            actor_id=user.id,
            session_id=row.id,
        )
        outbox.event(event)
    return row
