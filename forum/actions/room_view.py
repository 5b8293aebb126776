"""What the live room page shows first: the room's state, who is in it, the latest
proceedings of the open session and what comes next, all at one `seq`.

The page's script joins with `since` set to that `seq`, so the events after it arrive
by replay and none is shown twice or missed. The person's standing decides what the
page offers (seats, the chair's controls); the server checks every action anyway.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.admission import window_seats_now
from forum.actions.presence import get_presence
from forum.actions.room_reads import get_room_state, list_sessions, member_of, room_by_id
from forum.actions.room_state import session_wire
from forum.db.models import RoomEvent, User
from forum.domain.seats import seats_for
from forum.domain.sessions import SessionStatus
from forum.domain.vocabulary import Seat
from forum.wire.room import PresenceSnapshot, RoomState, SessionInfo

# The first HTML stays small on a slow link: the newest proceedings up to this many
# bytes of interventions as the page encodes them (and at most PROCEEDINGS_MAX entries)
# are rendered; the transcript has the whole session once it closes.
PROCEEDINGS_MAX = 60
PROCEEDINGS_BYTES = 16_000
UPCOMING_MAX = 5
PROCEEDING_TYPES = ("intervention", "floor")


@dataclass(frozen=True)
class RoomView:
    state: RoomState
    presence: PresenceSnapshot
    # The events as sent (`RoomEvent.wire`): forum/wire/events.py.
    proceedings: list[dict[str, Any]]
    upcoming: list[SessionInfo]
    seats: list[str]
    """The seats this person may ask for; ["spectator"] signed out."""
    is_chair: bool


async def recent_proceedings(
    session: AsyncSession, room_id: int, session_id: int, upto: int
) -> list[dict[str, Any]]:
    """The newest interventions and floor changes of a session, oldest first."""
    rows = (
        await session.scalars(
            select(RoomEvent)
            .where(
                RoomEvent.room_id == room_id,
                RoomEvent.session_id == session_id,
                RoomEvent.seq <= upto,
                RoomEvent.type.in_(PROCEEDING_TYPES),
            )
            .order_by(RoomEvent.seq.desc())
            .limit(PROCEEDINGS_MAX)
        )
    ).all()
    kept: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        size += len(html.escape(row.data.get("body") or "").encode())
        if size > PROCEEDINGS_BYTES and kept:
            break
        kept.append(row.wire())
    kept.reverse()
    return kept


async def get_room_view(session: AsyncSession, room_id: int, *, user: User | None) -> RoomView:
    state = await get_room_state(session, room_id)
    presence = await get_presence(session, room_id)
    _group, room = await room_by_id(session, room_id)
    open_session = state["session"]
    proceedings = (
        await recent_proceedings(session, room_id, open_session["id"], int(state["seq"]))
        if open_session
        else []
    )
    scheduled = await list_sessions(session, room_id, status=SessionStatus.SCHEDULED)
    # Soonest first: list_sessions gives the newest first.
    upcoming = [session_wire(row) for row in reversed(scheduled)][:UPCOMING_MAX]
    if user is None:
        return RoomView(state, presence, proceedings, upcoming, ["spectator"], is_chair=False)
    actor = await member_of(session, room, user)
    allowed = seats_for(actor.role, is_secretariat=user.is_secretariat) | (
        await window_seats_now(session, room, actor, upcoming=True)
    )
    order = [Seat.PARTICIPANT, Seat.REMOTE, Seat.OBSERVER]
    return RoomView(
        state,
        presence,
        proceedings,
        upcoming,
        [seat.value for seat in order if seat in allowed],
        is_chair=actor.is_chair,
    )
