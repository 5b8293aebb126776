"""Reading the equity figures (forum/domain/equity.py): of the open session, live, for
its chair; of a closed session, with its transcript; of a room over a period.

Reads write nothing. Every figure is computed from the session's events, so that the
chair's live view, the transcript and the period view agree with the turns given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.room_reads import (
    TRANSCRIPT_MAX_EVENTS,
    TRANSCRIPT_TYPES,
    member_of,
    open_session_of,
    room_by_id,
    room_for,
    speakers_of,
    transcript_entry,
)
from forum.actions.room_state import turn_of
from forum.db.base import utcnow
from forum.db.equity_queries import closed_sessions_between, session_events, sides_of_users
from forum.db.models import RoomSession, User
from forum.domain import equity as figures
from forum.errors import N_, ErrorCode, ForumError
from forum.wire.frames import LiveEquity

PERIOD_MAX_DAYS = 366


async def entries_equity(
    session: AsyncSession,
    entries: Sequence[dict[str, Any]],
    *,
    running: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The figures of one session's transcript entries."""
    people = speakers_of(entries)
    if running:
        people.add(running["user_id"])
    sides = await sides_of_users(session, people)
    return figures.equity(entries, sides, running=running)


async def _session_entries(session: AsyncSession, row: RoomSession) -> list[dict[str, Any]]:
    events = await session_events(session, row, TRANSCRIPT_TYPES, limit=TRANSCRIPT_MAX_EVENTS)
    return [transcript_entry(event) for event in events]


async def get_live_equity(session: AsyncSession, room_id: int, *, user: User) -> LiveEquity:
    """The open session's figures so far, the turn on the floor counted to now: for the
    chair alone (the transcript publishes them once the session closes)."""
    _group, room = await room_by_id(session, room_id)
    if not (await member_of(session, room, user)).is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair follows the equity live."))
    row = await open_session_of(session, room)
    if row is None:
        raise ForumError(ErrorCode.SESSION_NOT_OPEN, N_("No session is open in this room."))
    turn = turn_of(room)
    running = (
        {"user_id": turn.user_id, "family": turn.family.value, "spoken_s": turn.spoken_s(utcnow())}
        if turn is not None
        else None
    )
    entries = await _session_entries(session, row)
    return {
        "session_id": row.id,
        "seq": room.last_seq,
        "equity": await entries_equity(session, entries, running=running),
    }


def check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ForumError(
            ErrorCode.VALIDATION, N_("The end of the period comes after its start."), field="to"
        )
    if (end - start).days > PERIOD_MAX_DAYS:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A period is at most {days} days."),
            field="to",
            params={"days": PERIOD_MAX_DAYS},
        )


async def get_period_equity(
    session: AsyncSession, slug: str, *, start: datetime, end: datetime
) -> dict[str, Any]:
    """The figures of a group's closed sessions opened in [start, end), one by one and
    summed. Public, as the transcripts are."""
    check_period(start, end)
    group, room = await room_for(session, slug)
    rows = await closed_sessions_between(session, room.id, start, end)
    total = figures.empty()
    sessions: list[dict[str, Any]] = []
    for row in rows:
        found = await entries_equity(session, await _session_entries(session, row))
        figures.add(total, found)
        sessions.append(
            {
                "id": row.id,
                "title": row.title,
                "opened_at": row.opened_at.isoformat() if row.opened_at else None,
                "total": found["total"],
            }
        )
    return {
        "group": {"slug": group.slug, "name": group.name},
        "from": start.isoformat(),
        "to": end.isoformat(),
        "sessions": sessions,
        "equity": total,
    }
