"""The speaker's time: choosing and starting a turn under the session's budgets, the
chair pausing and resuming the speaker's clock, and the chair setting the families'
budgets (forum/domain/floor.py).

A refusal raises `ForumError` inside the transaction: nothing is written, no `seq` is
taken, nothing is published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.floor_state import (
    budgets_of,
    budgets_wire,
    count_side,
    exhausted_of,
    set_budgets,
    settle,
    sides_of,
    used_of,
)
from forum.actions.outbox import committing
from forum.actions.room_reads import RoomKey, locked, member_of
from forum.actions.room_state import (
    floor_wire,
    queue_names,
    queue_of,
    set_queue,
    spoken_of,
    turn_of,
)
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.events import append_event
from forum.db.models import Room, RoomEvent, RoomSession, User
from forum.domain import floor as floor_rules
from forum.domain import speaking as rules
from forum.domain.sessions import SessionStatus
from forum.domain.sides import turns_of, with_turn
from forum.domain.speaking import QueueEntry, QueuePolicy, Turn
from forum.errors import N_, ErrorCode, ForumError
from forum.wire.events import FloorBudgets, FloorClock
from forum.wire.room import Ended


@dataclass(frozen=True)
class Call:
    """The speaker called, their turn, and the turn it ended (if the floor was held)."""

    chosen: QueueEntry
    turn: Turn
    name: str
    ended: Ended | None


def start_turn(room: Room, *, target_id: int | None, is_chair: bool, limit_s: int | None) -> Call:
    """Call `target_id`, or whoever is next in line, onto the floor of `room` (locked):
    the ending turn is counted first, the choice checked, the new turn's limit cut to
    its family's time left, the rotation counts and the queue updated. The caller
    stores the floor once the event that names the turn has its `seq`."""
    queue = queue_of(room)
    spoken = spoken_of(room)
    now = utcnow()
    ended = settle(room, turn_of(room), now)
    exhausted = exhausted_of(room)
    if target_id is None:
        chosen = floor_rules.next_in_line(
            QueuePolicy(room.queue_policy),
            queue,
            spoken,
            sides=sides_of(room),
            exhausted=exhausted,
            side_turns=turns_of(room.side_turns or {}),
        )
    else:
        chosen = rules.find(queue, target_id)
    floor_rules.check_callable(
        is_chair=is_chair,
        session_open=room.open_session_id is not None,
        # Asked by name, someone not waiting is check_give_floor's refusal.
        waiting=len(queue) if target_id is None else 0,
        chosen=chosen,
    )
    rules.check_give_floor(
        is_chair=is_chair,
        session_open=room.open_session_id is not None,
        in_queue=chosen is not None,
        limit_s=limit_s,
    )
    assert chosen is not None  # noqa: S101 - check_give_floor refuses an empty choice
    floor_rules.check_exhausted(chosen, exhausted)
    names = queue_names(room)
    turn = Turn(
        user_id=chosen.user_id,
        family=chosen.family,
        started_at=now,
        limit_s=floor_rules.capped_limit(
            limit_s,
            chosen.family,
            point_of_order=chosen.point_of_order,
            budgets=budgets_of(room),
            used=used_of(room),
        ),
        point_of_order=chosen.point_of_order,
    )
    # A point of order is procedural: it does not count in the rotation.
    if not chosen.point_of_order:
        spoken[chosen.family] = spoken.get(chosen.family, 0) + 1
        count_side(room, chosen.region_side)
        # A consultation's queue alternates between its two sides (forum/domain/sides.py).
        room.side_turns = with_turn(room.side_turns or {}, chosen.side)
    room.spoken = {family.value: count for family, count in spoken.items()}
    set_queue(room, rules.lower_hand(queue, chosen.user_id), names)
    return Call(chosen=chosen, turn=turn, name=names[chosen.user_id], ended=ended)


class _ClockCheck(Protocol):
    def __call__(self, *, is_chair: bool, turn: Turn | None) -> Turn: ...


# The speaker's clock: who may change it (the check) and what the change does.
_CLOCK: dict[str, tuple[_ClockCheck, Callable[[Turn, datetime], Turn]]] = {
    "pause": (floor_rules.check_pause, floor_rules.pause),
    "resume": (floor_rules.check_resume, floor_rules.resume),
}


async def _set_clock(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, op: str
) -> RoomEvent:
    check, change = _CLOCK[op]
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        turn = check(is_chair=actor.is_chair, turn=turn_of(room))
        assert room.floor is not None  # noqa: S101 - the check refuses an empty floor
        changed = change(turn, utcnow())
        floor = room.floor = floor_wire(
            changed, name=room.floor["name"], turn_seq=room.floor["turn"]
        )
        data: FloorClock = {"floor": floor}
        event = await append_event(session, room, "floor", op, data, actor_id=user.id)
        outbox.event(event)
    return event


async def do_pause_floor(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User
) -> RoomEvent:
    """Hold the speaker's clock: the turn keeps its time left and cannot run out."""
    return await _set_clock(session, broker, room_id, user=user, op="pause")


async def do_resume_floor(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User
) -> RoomEvent:
    """Start the speaker's clock again from the time left when it was paused."""
    return await _set_clock(session, broker, room_id, user=user, op="resume")


async def do_set_budgets(
    session: AsyncSession,
    broker: Broker,
    key: RoomKey,
    *,
    user: User,
    session_id: int,
    budgets: dict[str, int],
) -> RoomSession:
    """Give each stakeholder family of a scheduled or open session its speaking time
    (seconds; an empty mapping removes the budgets). The room sees the change live
    when the session is the open one."""
    async with committing(session, broker) as outbox:
        room = await locked(session, key)
        actor = await member_of(session, room, user)
        row = await session.get(RoomSession, session_id, populate_existing=True)
        if row is None or row.room_id != room.id:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such session in this room."))
        floor_rules.check_set_budgets(
            is_chair=actor.is_chair, closed=row.status == SessionStatus.CLOSED.value
        )
        length = int((row.ends_at - row.starts_at).total_seconds())
        checked = floor_rules.check_budgets(budgets, session_length_s=length)
        row.family_budgets = {family.value: seconds for family, seconds in checked.items()}
        if room.open_session_id == row.id:
            set_budgets(room, checked)
            # A family given more time may be called again: the queue is ordered anew.
            set_queue(room, queue_of(room), queue_names(room))
        # The floor as it is, so that a worker's timer for the running turn stays set.
        data: FloorBudgets = {
            "session_id": row.id,
            "family_budgets": row.family_budgets,
            "floor": room.floor,
        }
        if room.open_session_id == row.id:
            data["budgets"], data["queue"] = budgets_wire(room), room.queue
        event = await append_event(
            session, room, "floor", "budgets", data, actor_id=user.id, session_id=row.id
        )
        outbox.event(event)
    return row
