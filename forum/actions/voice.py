"""Voice alongside text: the turns the chair records as spoken in the conference, and
the conference link handed to the people seated in the room (forum/domain/voice.py).

A voice turn is a room event like a floor given (`floor`/`voice`): it counts for the
speaker's family as a turn does, lowers the speaker's hand if it was raised, and
reaches every client in `seq` order. The link is never in an event, which every
spectator receives: a seated client asks for it (`get_conference`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.floor_state import add_time, budgets_wire, count_side
from forum.actions.outbox import committing
from forum.actions.room_reads import locked, member_of, open_session_of, room_by_id
from forum.actions.room_state import (
    queue_names,
    queue_of,
    session_wire,
    set_queue,
    spoken_of,
    turn_of,
)
from forum.broker import Broker
from forum.db.events import append_event
from forum.db.models import Presence, RoomEvent, RoomSession, User
from forum.domain import speaking as rules
from forum.domain.regions import side_of
from forum.domain.vocabulary import Family, Seat
from forum.domain.voice import check_record_voice_turn
from forum.errors import N_, ErrorCode, ForumError


async def _seats_of(session: AsyncSession, room_id: int, user_id: int) -> set[Seat]:
    """The seats a person holds in a room now, over all their connections."""
    rows = await session.scalars(
        select(Presence.seat)
        .where(Presence.room_id == room_id, Presence.user_id == user_id)
        .distinct()
    )
    return {Seat(seat) for seat in rows}


async def do_record_voice_turn(
    session: AsyncSession,
    broker: Broker,
    room_id: int,
    *,
    user: User,
    speaker_id: int,
    duration_s: int | None,
) -> RoomEvent:
    """Record that `speaker_id` took the floor by voice (for `duration_s` seconds)."""
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        turn = turn_of(room)
        seat = check_record_voice_turn(
            is_chair=actor.is_chair,
            session_open=room.open_session_id is not None,
            seats=await _seats_of(session, room.id, speaker_id),
            holds_floor=turn is not None and turn.user_id == speaker_id,
            duration_s=duration_s,
        )
        speaker = await session.get(User, speaker_id)
        assert speaker is not None  # noqa: S101 - someone seated has an account
        family = Family(speaker.family)
        spoken = spoken_of(room)
        spoken[family] = spoken.get(family, 0) + 1
        room.spoken = {key.value: count for key, count in spoken.items()}
        # Counted like a turn in the room: north or south, and the family's time.
        count_side(room, side_of(speaker.country))
        if duration_s:
            add_time(room, family, duration_s)
        # Served by voice, the speaker waits in the queue no longer.
        set_queue(room, rules.lower_hand(queue_of(room), speaker_id), queue_names(room))
        event = await append_event(
            session,
            room,
            "floor",
            "voice",
            {
                "user_id": speaker_id,
                "name": speaker.display_name,
                "family": speaker.family,
                "seat": seat.value,
                "duration_s": duration_s,
                "queue": room.queue,
                "spoken": room.spoken,
                "budgets": budgets_wire(room),
            },
            actor_id=user.id,
        )
        outbox.event(event)
    return event


async def get_conference(session: AsyncSession, room_id: int, *, user: User) -> dict[str, Any]:
    """The open session's conference link, for someone seated in the room or its chair;
    anyone else is refused, so that the link goes no further than the room."""
    _group, room = await room_by_id(session, room_id)
    if not await _seats_of(session, room.id, user.id):
        actor = await member_of(session, room, user)
        if not actor.is_chair:
            raise ForumError(
                ErrorCode.FORBIDDEN,
                N_("Take a seat in the room to get its conference link."),
            )
    row = await open_session_of(session, room)
    return {
        "session_id": row.id if row else None,
        "conference_url": row.conference_url if row else None,
    }


def chair_session_wire(row: RoomSession) -> dict[str, Any]:
    """A session as its chair reads it: with the conference link."""
    return {**session_wire(row), "conference_url": row.conference_url}
