"""Meetings with a room of their own: making one, calling a briefing, its outcome.

A meeting is made in one transaction: its room (with no group), the one session held
in it, the meeting row and the people named to it, and the room's first event (the
session scheduled). Its consultation's answers are in `forum/actions/consultations.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import Outbox, committing
from forum.actions.room_reads import locked
from forum.actions.room_state import session_wire
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.events import append_event
from forum.db.meeting_queries import meeting_in_room, person_in
from forum.db.models import Consultation, Meeting, MeetingPerson, Room, RoomEvent, RoomSession, User
from forum.db.queries import memberships_of
from forum.domain import meetings as rules
from forum.domain.consultations import ConsultationStatus, check_may_open
from forum.domain.meetings import MeetingKind, MeetingRole
from forum.domain.sessions import (
    SessionFormat,
    SessionStatus,
    check_schedule_session,
    clean_session_text,
)
from forum.domain.speaking import QueuePolicy
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError
from forum.text import render_markdown_async


async def append_scheduled(
    session: AsyncSession, room: Room, row: RoomSession, *, actor_id: int
) -> RoomEvent:
    """The room's event that `row` is scheduled (by a chair, or for a meeting)."""
    return await append_event(
        session,
        room,
        "session",
        "schedule",
        {"scheduled": session_wire(row)},
        actor_id=actor_id,
        session_id=row.id,
    )


@dataclass(frozen=True)
class MeetingDraft:
    title: str
    agenda: str
    starts_at: datetime
    ends_at: datetime
    format: SessionFormat


async def prepared(draft: MeetingDraft) -> tuple[MeetingDraft, str]:
    """The draft as stored and its agenda's HTML, rendered before the transaction."""
    title, agenda = clean_session_text(draft.title, draft.agenda)
    html = await render_markdown_async(agenda) if agenda else ""
    return replace(draft, title=title, agenda=agenda), html


async def make_meeting(
    session: AsyncSession,
    outbox: Outbox,
    *,
    kind: MeetingKind,
    user: User,
    draft: MeetingDraft,
    agenda_html: str,
    policy: QueuePolicy,
    transcript_closed: bool = False,
) -> tuple[Meeting, Room, RoomSession]:
    """The room, session and meeting rows, inside the caller's transaction."""
    title = check_schedule_session(
        is_chair=True,
        title=draft.title,
        agenda=draft.agenda,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
    )
    # No observer seats: a meeting seats whom it names, and nobody else.
    room = Room(group_id=None, queue_policy=policy.value, observer_seats={})
    session.add(room)
    await session.flush()
    row = RoomSession(
        room_id=room.id,
        title=title,
        agenda=draft.agenda,
        agenda_html=agenda_html,
        format=draft.format.value,
        status=SessionStatus.SCHEDULED.value,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        created_by=user.id,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    meeting = Meeting(
        kind=kind.value,
        room_id=room.id,
        session_id=row.id,
        transcript_closed=transcript_closed,
        created_by=user.id,
        created_at=utcnow(),
    )
    session.add(meeting)
    await session.flush()
    room = await locked(session, room.id)
    event = await append_scheduled(session, room, row, actor_id=user.id)
    outbox.event(event)
    return meeting, room, row


def name_person(
    session: AsyncSession,
    meeting: Meeting,
    user_id: int,
    role: MeetingRole,
    *,
    by: User,
    side: int | None = None,
) -> None:
    session.add(
        MeetingPerson(
            meeting_id=meeting.id,
            user_id=user_id,
            role=role.value,
            side_group_id=side,
            named_by=by.id,
            created_at=utcnow(),
        )
    )


async def do_call_briefing(
    session: AsyncSession,
    broker: Broker,
    *,
    user: User,
    draft: MeetingDraft,
    invitees: Sequence[int],
    transcript_closed: bool,
) -> Meeting:
    """Call a briefing among named invitees; whoever calls it chairs it."""
    draft, agenda_html = await prepared(draft)
    async with committing(session, broker) as outbox:
        roles = [
            Role(membership.role) for membership, _group in await memberships_of(session, user.id)
        ]
        rules.check_call_briefing(roles, is_secretariat=user.is_secretariat)
        found = (await session.scalars(select(User.id).where(User.id.in_(list(invitees))))).all()
        named = rules.check_invitees(invitees, found)
        meeting, _room, _row = await make_meeting(
            session,
            outbox,
            kind=MeetingKind.BRIEFING,
            user=user,
            draft=draft,
            agenda_html=agenda_html,
            policy=QueuePolicy.FIFO,
            transcript_closed=transcript_closed,
        )
        name_person(session, meeting, user.id, MeetingRole.CHAIR, by=user)
        for user_id in named:
            if user_id != user.id:
                name_person(session, meeting, user_id, MeetingRole.INVITEE, by=user)
    return meeting


async def do_record_outcome(
    session: AsyncSession, broker: Broker, meeting_id: int, *, user: User, summary: str
) -> Meeting:
    """The outcome summary, public even when the transcript is closed."""
    text = rules.check_record_outcome(is_chair=True, summary=summary)
    html = await render_markdown_async(text) if text else ""
    async with committing(session, broker) as outbox:
        meeting = await session.get(Meeting, meeting_id, populate_existing=True)
        if meeting is None:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such meeting."))
        room = await locked(session, meeting.room_id)
        named = await person_in(session, meeting.id, user.id)
        rules.check_record_outcome(
            is_chair=named is not None and named.role == MeetingRole.CHAIR.value, summary=text
        )
        meeting.outcome, meeting.outcome_html = text, html
        event = await append_event(
            session,
            room,
            "meeting",
            "outcome",
            {"meeting": meeting.id, "outcome_html": html},
            actor_id=user.id,
            session_id=meeting.session_id,
        )
        outbox.event(event)
    return meeting


async def check_watch_meeting(session: AsyncSession, room: Room) -> None:
    """Spectators of a meeting's room: only while its record is public."""
    if room.group_id is not None:
        return
    meeting = await meeting_in_room(session, room.id)
    rules.check_spectators(transcript_closed=meeting is not None and meeting.transcript_closed)


async def check_open_meeting(session: AsyncSession, room: Room) -> None:
    """A consultation's session opens only once it is accepted."""
    if room.group_id is None:
        meeting = await meeting_in_room(session, room.id)
        agreed = await session.get(Consultation, meeting.id) if meeting else None
        if agreed is not None:
            check_may_open(ConsultationStatus(agreed.status))
