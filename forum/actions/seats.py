"""Seats: connections taking them (or watching, signed out) and giving them up, the
observer seats, and the sweep of dead workers' connections (`forum.actions.presence`
says what presence is and how it is told).

Joins and leaves come in batches: `forum.ws.seating` gathers those that arrive while a
transaction is in flight (`forum.db.group_commit`), and one transaction seats them all,
with the reads they need made together, one insert of their rows and one presence
update per room. Each still gets its own answer, decided in the order they came,
exactly as one join after another would be: an observer seat given to the first is
counted against the second, and a refusal of one leaves the others seated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.admission import check_admission
from forum.actions.outbox import committing
from forum.actions.presence import PresenceChange, after_removal, latest_seats, presence_entry
from forum.actions.room_reads import Member, RoomKey, locked, member_of, members_of
from forum.actions.room_state import observer_policy_of
from forum.actions.spectators import stop_watching, sweep_spectators, touch_spectators, watch
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.engine import write_transaction
from forum.db.events import append_event, lock_room
from forum.db.models import Attendance, Presence, Room, RoomEvent, User
from forum.db.queries import rooms_seen_before
from forum.domain.meetings import check_admitted
from forum.domain.seats import check_set_observer_policy, check_take_seat, parse_observer_policy
from forum.domain.vocabulary import Family, Seat
from forum.errors import N_, ErrorCode, ForumError

STALE_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class SeatRequest:
    """A signed-in connection asking for a seat in a room."""

    room_id: int
    user: User
    seat: Seat
    connection_id: str
    worker: str


@dataclass(frozen=True)
class WatchRequest:
    """A signed-out connection watching a room."""

    room_id: int
    connection_id: str
    worker: str


Arrival = SeatRequest | WatchRequest


@dataclass(frozen=True)
class Departure:
    """A connection leaving a room: its seat (that of `user_id`), or its place among
    spectators."""

    room_id: int
    connection_id: str
    user_id: int | None = None


@dataclass
class _Rows:
    """Presence rows granted and not yet written, and the rows they replace."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)

    async def write(self, session: AsyncSession) -> None:
        if self.replaced:
            await session.execute(delete(Presence).where(Presence.id.in_(self.replaced)))
        if self.rows:
            await session.execute(insert(Presence), self.rows)
        self.rows, self.replaced = [], []


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
    request = SeatRequest(room_id, user, seat, connection_id, worker)
    [refused] = await do_arrive(session, broker, [request])
    if refused is not None:
        raise refused


async def do_arrive(
    session: AsyncSession, broker: Broker, arrivals: Sequence[Arrival]
) -> list[ForumError | None]:
    """Seat these connections, or count them among spectators, in one transaction:
    for each, None (done) or the refusal that says why not."""
    outcomes: list[ForumError | None] = [None] * len(arrivals)
    async with committing(session, broker) as outbox:
        asking = [a.connection_id for a in arrivals if isinstance(a, SeatRequest)]
        moving: dict[str, int] = {}
        if asking:
            rows = await session.execute(
                select(Presence.id, Presence.room_id).where(Presence.id.in_(asking))
            )
            moving = {row.id: row.room_id for row in rows}
        targets = sorted({a.room_id for a in arrivals})
        rooms = await _lock(session, [*targets, *moving.values()])
        changes = {room_id: PresenceChange() for room_id in rooms}
        left_behind: dict[int, dict[int, User]] = defaultdict(dict)
        for room_id in targets:
            here = [(n, a) for n, a in enumerate(arrivals) if a.room_id == room_id]
            room = rooms.get(room_id)
            if room is None:
                for n, _ in here:
                    outcomes[n] = ForumError(ErrorCode.NOT_FOUND, N_("No such room."))
                continue
            watchers = [(a.connection_id, a.worker) for _, a in here if isinstance(a, WatchRequest)]
            if watchers:
                await watch(session, room, changes[room_id], watchers)
            requests = [(n, a) for n, a in here if isinstance(a, SeatRequest)]
            if requests:
                refused = await _seat(session, room, requests, moving, changes[room_id])
                for n, error in refused.items():
                    outcomes[n] = error
                for n, request in requests:
                    came_from = moving.get(request.connection_id)
                    if n not in refused and came_from not in (None, room_id):
                        left_behind[came_from][request.user.id] = request.user
        for room_id, users in left_behind.items():
            await after_removal(session, rooms[room_id], users, changes[room_id], known=users)
        # The rooms people left are told before those they came to.
        for room_id in sorted(changes, key=lambda room_id: room_id in targets):
            changes[room_id].publish(outbox, room_id)
    return outcomes


async def _lock(session: AsyncSession, room_ids: Iterable[int]) -> dict[int, Room]:
    """The rooms that exist among these, locked in id order, so that two batches
    moving people opposite ways never wait on each other."""
    rooms = {}
    for room_id in sorted(set(room_ids)):
        room = await lock_room(session, room_id)
        if room is not None:
            rooms[room_id] = room
    return rooms


async def _seat(
    session: AsyncSession,
    room: Room,
    requests: list[tuple[int, SeatRequest]],
    moving: dict[str, int],
    change: PresenceChange,
) -> dict[int, ForumError]:
    """Seat these requests in the room, in order; the refusals, by position."""
    users = {request.user.id: request.user for _, request in requests}
    members = await members_of(session, room, list(users.values()))
    shown = await latest_seats(session, room.id, list(users))
    attended: set[tuple[int, str]] = set()
    if room.open_session_id is not None:
        rows = await session.execute(
            select(Attendance.user_id, Attendance.seat).where(
                Attendance.session_id == room.open_session_id, Attendance.user_id.in_(list(users))
            )
        )
        attended = {(user_id, seat) for user_id, seat in rows}
    pending = _Rows()
    attendance: list[dict[str, Any]] = []
    refused: dict[int, ForumError] = {}
    seated: dict[int, str] = {}
    now = utcnow()
    for n, request in requests:
        user, seat = request.user, request.seat
        try:
            await _check(session, room, members[user.id], seat, pending)
        except ForumError as error:
            refused[n] = error
            continue
        if request.connection_id in moving:
            pending.replaced.append(request.connection_id)
        # A microsecond apart: of one person's connections, the later one is the latest.
        joined_at = now + timedelta(microseconds=n)
        pending.rows.append(
            {"id": request.connection_id, "room_id": room.id, "user_id": user.id}
            | {"seat": seat.value, "family": user.family, "worker": request.worker}
            | {"joined_at": joined_at, "seen_at": now}
        )
        if room.open_session_id is not None and (user.id, seat.value) not in attended:
            attended.add((user.id, seat.value))
            attendance.append(
                {"session_id": room.open_session_id, "user_id": user.id, "seat": seat.value}
                | {"family": user.family, "first_seen": now}
            )
        seated.pop(user.id, None)
        seated[user.id] = seat.value
    await pending.write(session)
    if attendance:
        await session.execute(insert(Attendance), attendance)
    for user_id, seat_value in seated.items():
        if shown.get(user_id) != seat_value:
            change.show(presence_entry(users[user_id], seat_value, change.version(room)))
    return refused


async def _check(
    session: AsyncSession, room: Room, actor: Member, seat: Seat, pending: _Rows
) -> None:
    """Refuse the seat as `do_take_seat` alone would, the seats granted before it in
    the batch counted."""
    check_admitted(admitted=actor.admitted)
    # Only an observer seat is counted, and only its check reads the seats taken: the
    # rows granted so far are written first, so that it reads them too.
    observers: dict[int, Family] = {}
    if seat is Seat.OBSERVER:
        await pending.write(session)
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
        user = actor.user
        check_take_seat(
            seat,
            user_id=user.id,
            family=Family(user.family),
            role=actor.role,
            is_secretariat=user.is_secretariat,
            policy=observer_policy_of(room),
            observers=counted,
        )


async def do_leave_seat(
    session: AsyncSession, broker: Broker, room_id: int, *, user: User, connection_id: str
) -> None:
    await do_depart(session, broker, [Departure(room_id, connection_id, user.id)])


async def do_depart(session: AsyncSession, broker: Broker, departures: Sequence[Departure]) -> None:
    """Give up these connections' seats and spectator places, in one transaction: one
    presence update per room. A connection already gone changes nothing."""
    async with committing(session, broker) as outbox:
        rooms = await _lock(session, [d.room_id for d in departures])
        for room_id, room in rooms.items():
            here = [d for d in departures if d.room_id == room_id]
            change = PresenceChange()
            seated = [d.connection_id for d in here if d.user_id is not None]
            if seated:
                gone = await session.scalars(
                    delete(Presence).where(Presence.id.in_(seated)).returning(Presence.user_id)
                )
                await after_removal(session, room, gone.all(), change)
            watching = [d.connection_id for d in here if d.user_id is None]
            if watching:
                await stop_watching(session, room, change, watching)
            change.publish(outbox, room_id)


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
                await session.scalars(
                    delete(Presence)
                    .where(Presence.room_id == room_id, Presence.seen_at < cutoff)
                    .returning(Presence.user_id)
                )
            ).all()
            change = PresenceChange()
            await after_removal(session, room, rows, change)
            change.publish(outbox, room_id)
        removed += len(rows)
    return removed + await sweep_spectators(session, broker, cutoff=cutoff)


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
