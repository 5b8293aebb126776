"""What a change of someone's standing in a group does to them in its live room.

Leaving a group, being removed from it, or being given another role changes, inside
the membership action's own transaction, everything of that person's in the group's
room that the new role no longer allows: each seat is kept, changed or ended
(`domain.seats.seat_after_change`), their hand comes down, and a floor they hold
returns to the chair. After commit the room hears of it like of any other change:
a numbered `queue`/`lower` or `floor`/`take` event with reason `standing`, and a
presence update for the seat. The person's connections, on whichever worker holds
them, hear through their user channel which of them now sit where, or are out.

Room actions do not rely on any of this arriving: each checks the person's role
again in its own transaction (`check_seat_held`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import Outbox
from forum.actions.presence import add_presence, presence_entry, seat_of
from forum.actions.room_reads import locked
from forum.actions.room_state import (
    observer_policy_of,
    queue_names,
    queue_of,
    set_queue,
    turn_of,
)
from forum.actions.speaking import end_turn
from forum.broker import user_channel
from forum.db.base import utcnow
from forum.db.events import append_event
from forum.db.models import Attendance, Presence, Room, RoomEvent, User
from forum.domain import speaking as rules
from forum.domain.seats import may_speak, seat_after_change
from forum.domain.sessions import can_chair
from forum.domain.vocabulary import Family, Role, Seat
from forum.wire.events import SeatNotice
from forum.wire.room import PresenceLeft, PresenceUser

REASON = "standing"

log = logging.getLogger(__name__)


@dataclass
class Reseated:
    """What a change of standing did in one room, to publish after commit."""

    room_id: int
    user_id: int
    event: RoomEvent | None = None
    users: list[PresenceUser] = field(default_factory=list)
    left: list[PresenceLeft] = field(default_factory=list)
    # The person's connections in the room: id -> the seat it now holds, None if out.
    connections: dict[str, str | None] = field(default_factory=dict)
    role: Role | None = None
    chair: bool = False


async def reseat(
    session: AsyncSession, *, group_id: int, user_id: int, role: Role | None, actor_id: int
) -> Reseated | None:
    """Apply `user_id`'s new `role` in the group (None: no longer a member) to its
    room. Runs inside the membership action's transaction, after its checks."""
    room_id = await session.scalar(select(Room.id).where(Room.group_id == group_id))
    if room_id is None:
        return None  # no room yet: nobody is seated in it
    room = await locked(session, room_id)
    user = await session.get(User, user_id)
    assert user is not None  # noqa: S101 - the membership action found the person
    done = Reseated(
        room_id=room.id,
        user_id=user_id,
        role=role,
        chair=can_chair(role, is_secretariat=user.is_secretariat),
    )
    await _reseat_connections(session, room, user, role, done)
    if not may_speak(role, is_secretariat=user.is_secretariat):
        done.event = await withdraw_speaker(session, room, user_id, actor_id)
    return done


async def _reseat_connections(
    session: AsyncSession, room: Room, user: User, role: Role | None, done: Reseated
) -> None:
    rows = (
        await session.scalars(
            select(Presence)
            .where(Presence.room_id == room.id, Presence.user_id == user.id)
            .order_by(Presence.id)
        )
    ).all()
    if not rows:
        return
    observers = {
        other: Family(family)
        for other, family in await session.execute(
            select(Presence.user_id, Presence.family)
            .where(Presence.room_id == room.id, Presence.seat == Seat.OBSERVER.value)
            .distinct()
        )
    }
    policy = observer_policy_of(room)
    ended: list[str] = []
    moved: set[str] = set()
    for row in rows:
        seat = seat_after_change(
            Seat(row.seat),
            user_id=user.id,
            family=Family(user.family),
            role=role,
            is_secretariat=user.is_secretariat,
            policy=policy,
            observers=observers,
        )
        done.connections[row.id] = None if seat is None else seat.value
        if seat is None:
            ended.append(row.id)
        elif seat.value != row.seat:
            row.seat = seat.value
            moved.add(seat.value)
            if seat is Seat.OBSERVER:
                # Their other connections share the one observer seat now taken.
                observers[user.id] = Family(user.family)
    if ended:
        await session.execute(delete(Presence).where(Presence.id.in_(ended)))
    await session.flush()
    if not ended and not moved:
        return
    if room.open_session_id is not None:
        for seat_value in moved:
            key = (room.open_session_id, user.id, seat_value)
            if await session.get(Attendance, key) is None:
                session.add(
                    Attendance(
                        session_id=room.open_session_id,
                        user_id=user.id,
                        seat=seat_value,
                        family=user.family,
                        first_seen=utcnow(),
                    )
                )
    room.presence_ver += 1
    shown = await seat_of(session, room.id, user.id)
    if shown is None:
        done.left.append({"user_id": user.id, "ver": room.presence_ver})
    else:
        done.users.append(presence_entry(user, shown, room.presence_ver))


async def withdraw_speaker(
    session: AsyncSession, room: Room, user_id: int, actor_id: int | None, reason: str = REASON
) -> RoomEvent | None:
    """Take down the hand of someone who may no longer speak, or end their turn."""
    queue = queue_of(room)
    if rules.find(queue, user_id) is not None:
        set_queue(room, rules.lower_hand(queue, user_id), queue_names(room))
        return await append_event(
            session,
            room,
            "queue",
            "lower",
            {"user_id": user_id, "queue": room.queue, "reason": reason},
            actor_id=actor_id,
        )
    turn = turn_of(room)
    if turn is not None and turn.user_id == user_id:
        return await end_turn(session, room, reason=reason, actor_id=actor_id)
    return None


def add_reseated(outbox: Outbox, done: Reseated | None, reason: str = REASON) -> None:
    """Register what a change of standing tells: the room's event and presence, then
    the person's connections.

    The event goes first, so that a connection about to leave the room still sees
    its own hand come down. Should a publish fail, the change is committed, the event
    row fills the gap, and every room action checks the role again anyway.
    """
    if done is None:
        return
    if done.event is not None:
        outbox.event(done.event)
    add_presence(outbox, done.room_id, done.users, done.left)
    if not done.connections:
        return
    notice: SeatNotice = {
        "type": "seat",
        "op": reason,
        "room": done.room_id,
        "role": None if done.role is None else str(done.role),
        "chair": done.chair,
        "connections": done.connections,
    }
    outbox.add(user_channel(done.user_id), notice)
