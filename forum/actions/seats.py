"""Seats and presence: who is in a room, on which seat, seen from every worker.

Presence lives in the database, one row per open connection, so that observer seats
are counted across workers. It is not part of the numbered event log: it changes with
every connection, and a room in which hundreds join at once would otherwise send each
of them every other's arrival. Instead each change bumps the room's `presence_ver`
and is published as a presence update carrying that version; hubs coalesce updates,
and a client applies an update only when its version is newer than what it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.admission import check_admission
from forum.actions.outbox import Outbox, committing
from forum.actions.room_reads import RoomKey, locked, member_of
from forum.actions.room_state import observer_policy_of, person
from forum.actions.spectators import count_spectators, sweep_spectators, touch_spectators
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.engine import write_transaction
from forum.db.events import append_event
from forum.db.models import Attendance, Presence, Room, RoomEvent, User
from forum.db.queries import rooms_seen_before
from forum.domain.meetings import check_admitted
from forum.domain.seats import check_set_observer_policy, check_take_seat, parse_observer_policy
from forum.domain.vocabulary import Family, Seat
from forum.wire.events import PresenceUpdate
from forum.wire.room import PresenceLeft, PresenceSnapshot, PresenceUser

STALE_AFTER = timedelta(seconds=30)


def presence_entry(user: User, seat: str, ver: int) -> PresenceUser:
    return {
        **person(user),
        "seat": seat,
        "remote": seat == Seat.REMOTE.value,
        "observer": seat == Seat.OBSERVER.value,
        "ver": ver,
    }


async def seat_of(session: AsyncSession, room_id: int, user_id: int) -> str | None:
    """The seat a person shows in the room: that of their latest connection."""
    return await session.scalar(
        select(Presence.seat)
        .where(Presence.room_id == room_id, Presence.user_id == user_id)
        .order_by(Presence.joined_at.desc())
        .limit(1)
    )


def add_presence(
    outbox: Outbox, room_id: int, users: list[PresenceUser], left: list[PresenceLeft]
) -> None:
    """Register a presence update, to publish when the transaction commits."""
    if users or left:
        message: PresenceUpdate = {
            "type": "presence",
            "op": "update",
            "room": room_id,
            "users": users,
            "left": left,
        }
        outbox.room(room_id, message)


async def do_take_seat(
    session: AsyncSession,
    broker: Broker,
    room_id: int,
    *,
    user: User,
    seat: Seat,
    connection_id: str,
    worker: str,
) -> None:
    """Seat a connection in the room, or refuse (no row, nothing published).

    A connection already seated (in this room or another) moves to the new seat in the
    same transaction, once the new seat is granted: a refused change leaves it where it
    was, its seat kept.
    """
    async with committing(session, broker) as outbox:
        moving_from = await session.scalar(
            select(Presence.room_id).where(Presence.id == connection_id)
        )
        # Both rooms locked in id order, so that two moves the opposite way never
        # wait on each other.
        rooms = {
            rid: await locked(session, rid) for rid in sorted({room_id, moving_from or room_id})
        }
        room = rooms[room_id]
        actor = await member_of(session, room, user)
        check_admitted(admitted=actor.admitted)
        # Only an observer seat is counted; every statement here is a round trip made
        # while holding the write lock that every join and action waits for.
        observers: dict[int, Family] = {}
        if seat is Seat.OBSERVER:
            rows = await session.execute(
                select(Presence.user_id, Presence.family)
                .where(Presence.room_id == room.id, Presence.seat == Seat.OBSERVER.value)
                .distinct()
            )
            observers = {user_id: Family(family) for user_id, family in rows}
        # Access windows and approved observer requests seat people their standing
        # does not; otherwise the room's own rule decides.
        granted, counted = await check_admission(session, room, actor, seat, observers)
        if not granted:
            check_take_seat(
                seat,
                user_id=user.id,
                family=Family(user.family),
                role=actor.role,
                is_secretariat=user.is_secretariat,
                policy=observer_policy_of(room),
                observers=counted,
            )
        before = await seat_of(session, room.id, user.id)
        left_behind: tuple[list[PresenceUser], list[PresenceLeft]] = ([], [])
        if moving_from is not None:
            await session.execute(delete(Presence).where(Presence.id == connection_id))
            if moving_from != room.id:
                left_behind = await _after_removal(session, rooms[moving_from], [user.id])
        now = utcnow()
        session.add(
            Presence(
                id=connection_id,
                room_id=room.id,
                user_id=user.id,
                seat=seat.value,
                family=user.family,
                worker=worker,
                joined_at=now,
                seen_at=now,
            )
        )
        if room.open_session_id is not None:
            attended = await session.get(Attendance, (room.open_session_id, user.id, seat.value))
            if attended is None:
                session.add(
                    Attendance(
                        session_id=room.open_session_id,
                        user_id=user.id,
                        seat=seat.value,
                        family=user.family,
                        first_seen=now,
                    )
                )
        changed = before != seat.value
        if changed:
            room.presence_ver += 1
        if moving_from is not None and moving_from != room_id:
            add_presence(outbox, moving_from, *left_behind)
        if changed:
            entry = presence_entry(user, seat.value, room.presence_ver)
            add_presence(outbox, room_id, [entry], [])


async def do_leave_seat(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, connection_id: str
) -> None:
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        gone = await session.execute(delete(Presence).where(Presence.id == connection_id))
        if not gone.rowcount:  # type: ignore[attr-defined]
            return
        users, left = await _after_removal(session, room, [user.id])
        add_presence(outbox, room_id, users, left)


async def _after_removal(
    session: AsyncSession, room: Room, user_ids: Sequence[int]
) -> tuple[list[PresenceUser], list[PresenceLeft]]:
    """Presence updates for people who lost a connection: gone, or on another seat."""
    users: list[PresenceUser] = []
    left: list[PresenceLeft] = []
    for user_id in sorted(set(user_ids)):
        room.presence_ver += 1
        seat = await seat_of(session, room.id, user_id)
        if seat is None:
            left.append({"user_id": user_id, "ver": room.presence_ver})
        else:
            user = await session.get(User, user_id)
            assert user is not None  # noqa: S101 - presence rows cascade with users
            users.append(presence_entry(user, seat, room.presence_ver))
    return users, left


async def do_touch_presence(session: AsyncSession, *, worker: str) -> None:
    """Mark this worker's connections as alive."""
    now = utcnow()
    async with write_transaction(session):
        await session.execute(update(Presence).where(Presence.worker == worker).values(seen_at=now))
        await touch_spectators(session, worker=worker, now=now)


async def do_sweep_presence(
    session: AsyncSession, broker: Broker, *, stale_after: timedelta = STALE_AFTER
) -> int:
    """Remove connections whose worker stopped refreshing them (it died)."""
    cutoff = utcnow() - stale_after
    stale = await rooms_seen_before(session, Presence, cutoff)
    removed = 0
    for room_id in stale:
        async with committing(session, broker) as outbox:
            room = await locked(session, room_id)
            rows = (
                (
                    await session.execute(
                        delete(Presence)
                        .where(Presence.room_id == room_id, Presence.seen_at < cutoff)
                        .returning(Presence.user_id)
                    )
                )
                .scalars()
                .all()
            )
            users, left = await _after_removal(session, room, rows)
            add_presence(outbox, room_id, users, left)
        removed += len(rows)
    return removed + await sweep_spectators(session, broker, cutoff=cutoff)


async def get_presence(session: AsyncSession, room_id: int) -> PresenceSnapshot:
    """Everyone in the room now, with the version the snapshot is at: one entry per
    person, on the seat of their latest connection, in the order they first came.

    The version is read first: an update that lands between the two reads has a
    higher version and is applied again by the client, which changes nothing.
    Connections are grouped per person in the database, from the index alone: a room
    where one account holds thousands of connections (a hall's screens, a load test)
    returns one row per person, not per connection.
    """
    ver = await session.scalar(select(Room.presence_ver).where(Room.id == room_id)) or 0
    people = (
        select(
            Presence.user_id,
            func.min(Presence.joined_at).label("first"),
            func.max(Presence.joined_at).label("latest"),
        )
        .where(Presence.room_id == room_id)
        .group_by(Presence.user_id)
        .subquery()
    )
    rows = await session.execute(
        select(Presence.seat, User)
        .join(
            people,
            (Presence.room_id == room_id)
            & (Presence.user_id == people.c.user_id)
            & (Presence.joined_at == people.c.latest),
        )
        .join(User, User.id == people.c.user_id)
        .order_by(people.c.first, people.c.user_id, Presence.id.desc())
    )
    users: dict[int, PresenceUser] = {}
    for seat, user in rows:
        # Two connections joined in the same microsecond: either seat is the latest.
        users.setdefault(user.id, presence_entry(user, seat, ver))
    spectators = await count_spectators(session, room_id)
    return {"ver": ver, "users": list(users.values()), "spectators": spectators}


async def do_set_observer_policy(
    session: AsyncSession, broker: Broker, key: RoomKey, *, user: User, seats: Any
) -> RoomEvent:
    """Change the observer seats. People already seated keep their seats; the new
    numbers apply to the next who ask."""
    async with committing(session, broker) as outbox:
        room = await locked(session, key)
        policy = parse_observer_policy(seats)
        actor = await member_of(session, room, user)
        check_set_observer_policy(is_chair=actor.is_chair)
        room.observer_seats = policy.to_json()
        event = await append_event(
            session,
            room,
            "room",
            "seats",
            {"observer_seats": room.observer_seats},
            actor_id=user.id,
        )
        outbox.event(event)
    return event
