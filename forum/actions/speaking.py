"""The speaker queue, the floor and interventions.

A refusal raises `ForumError` inside the transaction: nothing is written, no `seq` is
taken, nothing is published.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from forum.actions.admission import check_held
from forum.actions.floor_state import budgets_wire, settle
from forum.actions.floor_time import start_turn
from forum.actions.intervene_block import Speaker, intervene_block, intervention_data
from forum.actions.outbox import Outbox, committing, send
from forum.actions.room_reads import locked, member_of
from forum.actions.room_state import (
    floor_wire,
    queue_names,
    queue_of,
    set_queue,
    turn_of,
)
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.engine import end_read
from forum.db.events import append_event
from forum.db.grouped_blocks import run_grouped
from forum.db.models import Room, RoomEvent, RoomSession, User
from forum.domain import floor as floor_rules
from forum.domain import speaking as rules
from forum.domain.floor import Note
from forum.domain.regions import side_of
from forum.domain.sessions import SessionFormat
from forum.domain.speaking import QueueEntry, QueuePolicy
from forum.domain.vocabulary import Family, Seat
from forum.wire.events import (
    FloorExtended,
    FloorGiven,
    FloorTaken,
    HandLowered,
    HandMoved,
    HandRaised,
    HandsLowered,
    PolicySet,
)


def _next_raised(room: Room) -> int:
    return max((item["raised"] for item in room.queue), default=-1) + 1


async def do_set_queue_policy(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, policy: QueuePolicy
) -> RoomEvent:
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        rules.check_set_policy(is_chair=actor.is_chair)
        room.queue_policy = policy.value
        set_queue(room, queue_of(room), queue_names(room))
        data: PolicySet = {"queue_policy": policy.value, "queue": room.queue}
        event = await append_event(session, room, "room", "policy", data, actor_id=user.id)
        outbox.event(event)
    return event


async def do_raise_hand(
    session: AsyncSession,
    broker: Broker,
    room_id: int,
    *,
    user: User,
    seat: Seat,
    point_of_order: bool = False,
    note: Note | None = None,
) -> RoomEvent:
    """Ask to speak, with a note (pro, contra, question), or on a point of order."""
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        await check_held(session, room, actor, seat)
        if point_of_order:
            floor_rules.check_point_of_order(seat)
        queue = queue_of(room)
        turn = turn_of(room)
        rules.check_raise_hand(
            seat,
            session_open=room.open_session_id is not None,
            already_in_queue=rules.find(queue, user.id) is not None,
            holds_floor=turn is not None and turn.user_id == user.id,
            queue_size=len(queue),
        )
        entry = QueueEntry(
            user_id=user.id,
            family=Family(user.family),
            seat=seat,
            raised=_next_raised(room),
            point_of_order=point_of_order,
            note=note.value if note else None,
            region_side=side_of(user.country),
            side=actor.side,
        )
        set_queue(
            room, rules.raise_hand(queue, entry), {**queue_names(room), user.id: user.display_name}
        )
        data: HandRaised = {"user_id": user.id, "queue": room.queue}
        event = await append_event(session, room, "queue", "raise", data, actor_id=user.id)
        outbox.event(event)
    return event


async def do_lower_hand(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, target_id: int | None
) -> RoomEvent:
    target = user.id if target_id is None else target_id
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        queue = queue_of(room)
        rules.check_lower_hand(
            user_id=user.id,
            target_id=target,
            is_chair=actor.is_chair,
            in_queue=rules.find(queue, target) is not None,
        )
        set_queue(room, rules.lower_hand(queue, target), queue_names(room))
        data: HandLowered = {"user_id": target, "queue": room.queue}
        event = await append_event(session, room, "queue", "lower", data, actor_id=user.id)
        outbox.event(event)
    return event


async def do_lower_all_hands(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User
) -> RoomEvent:
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        lowered = [item["user_id"] for item in room.queue]
        rules.check_lower_all_hands(is_chair=actor.is_chair, queue_size=len(lowered))
        room.queue = []
        data: HandsLowered = {"user_ids": lowered, "queue": room.queue}
        event = await append_event(session, room, "queue", "lower_all", data, actor_id=user.id)
        outbox.event(event)
    return event


async def do_move_in_queue(
    session: AsyncSession,
    broker: Broker,
    room_id: int,
    *,
    user: User,
    target_id: int,
    position: int,
) -> RoomEvent:
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        queue = queue_of(room)
        rules.check_move(
            is_chair=actor.is_chair,
            in_queue=rules.find(queue, target_id) is not None,
            position=position,
            queue_size=len(queue),
        )
        set_queue(room, rules.move(queue, target_id, position), queue_names(room))
        data: HandMoved = {"user_id": target_id, "position": position, "queue": room.queue}
        event = await append_event(session, room, "queue", "move", data, actor_id=user.id)
        outbox.event(event)
    return event


async def do_give_floor(
    session: AsyncSession,
    broker: Broker,
    room_id: int,
    *,
    user: User,
    target_id: int | None,
    limit_s: int | None,
) -> RoomEvent:
    """Give the floor to `target_id`, or to whoever the policy calls next when None."""
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        previous = room.floor
        call = start_turn(room, target_id=target_id, is_chair=actor.is_chair, limit_s=limit_s)
        # The event's own seq names the turn, so that a timer cannot end a later one.
        event = await append_event(session, room, "floor", "give", None, actor_id=user.id)
        floor = room.floor = floor_wire(call.turn, name=call.name, turn_seq=event.seq)
        given: FloorGiven = {
            "floor": floor,
            "queue": room.queue,
            "spoken": room.spoken,
            "previous": previous["user_id"] if previous else None,
            "ended": call.ended,
            "budgets": budgets_wire(room),
            "note": call.chosen.note,
        }
        event.data = given
        outbox.event(event)
    return event


async def do_take_floor(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User
) -> RoomEvent:
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        rules.check_take_floor(is_chair=actor.is_chair, turn=turn_of(room))
        event = await end_turn(session, room, reason="chair", actor_id=user.id)
        outbox.event(event)
    return event


async def end_turn(
    session: AsyncSession, room: Room, *, reason: str, actor_id: int | None
) -> RoomEvent:
    """The floor returns to the chair; the turn's time is counted (`ended`), and the
    queue is ordered again, since a family may have run out of time."""
    floor = room.floor
    ended = settle(room, turn_of(room), utcnow())
    room.floor = None
    set_queue(room, queue_of(room), queue_names(room))
    data: FloorTaken = {
        "floor": None,
        "user_id": floor["user_id"] if floor else None,
        "name": floor["name"] if floor else None,
        "reason": reason,
        "ended": ended,
        "queue": room.queue,
        "budgets": budgets_wire(room),
    }
    return await append_event(session, room, "floor", "take", data, actor_id=actor_id)


async def do_extend_floor(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, seconds: int
) -> RoomEvent:
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        turn = turn_of(room)
        rules.check_extend_floor(is_chair=actor.is_chair, turn=turn, seconds=seconds)
        assert turn is not None and room.floor is not None  # noqa: S101 - checked above
        floor = room.floor = floor_wire(
            turn.extend(seconds), name=room.floor["name"], turn_seq=room.floor["turn"]
        )
        data: FloorExtended = {"floor": floor, "seconds": seconds}
        event = await append_event(session, room, "floor", "extend", data, actor_id=user.id)
        outbox.event(event)
    return event


async def do_expire_floor(
    session: AsyncSession,
    broker: Broker,
    room_id: int,
    *,
    turn_seq: int,
    now: datetime | None = None,
) -> RoomEvent | None:
    """Return the floor to the chair when turn `turn_seq`'s time has run out.

    Every worker with a connection in the room may call this when its timer fires;
    the first one ends the turn and the others find nothing to do.
    """
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        turn = turn_of(room)
        if (
            turn is None
            or room.floor is None
            or room.floor["turn"] != turn_seq
            or not turn.expired(now or utcnow())
        ):
            return None
        event = await end_turn(session, room, reason="expired", actor_id=None)
        outbox.event(event)
    return event


async def do_intervene(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, seat: Seat, body: str
) -> RoomEvent:
    """Speak in the room. On SQLite, in a group room and on a seat the speaker's
    standing gives, the reads, checks and writes are one block committed with the
    interventions of other speakers that came meanwhile (`forum.actions.intervene_block`,
    `forum.db.grouped_blocks`); the event is published once its group has committed."""
    bind = session.bind
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite":
        if session.in_transaction():
            raise RuntimeError("write_transaction must be the outermost transaction")
        if inspect(user).expired_attributes:
            await session.refresh(user)
            await end_read(session)
        speaker = Speaker(user.id, user.display_name, user.family, user.is_secretariat)
        grouped = await run_grouped(
            bind,
            intervene_block(room_id, speaker, seat, body),
            abandoned=lambda event: _publish_later(broker, event),
        )
        if grouped is not None:
            outbox = Outbox()
            outbox.event(grouped)
            await send(broker, outbox)
            return grouped
    return await _intervene_in_transaction(
        session, broker, room_id, user=user, seat=seat, body=body
    )


_later: set[asyncio.Task[None]] = set()


def _publish_later(broker: Broker, event: RoomEvent | None) -> None:
    """The event of an intervention committed after its writer was cancelled: still owed
    (None: the block left it to the general path, which the cancel stopped)."""
    if event is not None:
        outbox = Outbox()
        outbox.event(event)
        task = asyncio.get_running_loop().create_task(send(broker, outbox))
        _later.add(task)
        task.add_done_callback(_later.discard)


async def _intervene_in_transaction(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, seat: Seat, body: str
) -> RoomEvent:
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        actor = await member_of(session, room, user)
        await check_held(session, room, actor, seat)
        open_session = (
            await session.get(RoomSession, room.open_session_id)
            if room.open_session_id is not None
            else None
        )
        turn = turn_of(room)
        text = rules.check_intervene(
            seat,
            SessionFormat(open_session.format) if open_session else SessionFormat.OPEN_DEBATE,
            user_id=user.id,
            is_chair=actor.is_chair,
            session_open=open_session is not None,
            turn=turn,
            now=utcnow(),
            body=body,
        )
        speaker = Speaker(user.id, user.display_name, user.family, user.is_secretariat)
        data = intervention_data(speaker, seat, text, turn)
        event = await append_event(session, room, "intervention", "post", data, actor_id=user.id)
        outbox.event(event)
    return event
