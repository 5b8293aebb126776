"""Who is in a room, read and told: the presence entries, the seat each person shows,
and the presence updates that seats and spectators publish.

Presence lives in the database, one row per open connection, so that observer seats
are counted across workers. It is not part of the numbered event log: it changes with
every connection, and a room in which hundreds join at once would otherwise send each
of them every other's arrival. Instead each change bumps the room's `presence_ver`
and is published as a presence update carrying that version; hubs coalesce updates,
and a client applies an entry only when its version is newer than what it has for
that person. A transaction that seats or lets go of many connections at once bumps
the version once: every entry it publishes carries the same version, one per person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import Outbox
from forum.actions.room_state import person
from forum.db.models import Presence, Room, Spectator, User
from forum.domain.vocabulary import Seat
from forum.wire.events import PresenceUpdate
from forum.wire.room import PresenceLeft, PresenceSnapshot, PresenceUser, SpectatorCount


async def count_spectators(session: AsyncSession, room_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Spectator).where(Spectator.room_id == room_id)
        )
        or 0
    )


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
    return (await latest_seats(session, room_id, [user_id])).get(user_id)


async def latest_seats(
    session: AsyncSession, room_id: int, user_ids: Iterable[int]
) -> dict[int, str]:
    """The seat each of these people shows in the room (none: not there), in one
    statement, from the index on (room, person, joined_at). Two connections joined in
    the same microsecond: the one `get_presence` shows."""
    wanted = sorted(set(user_ids))
    latest = (
        select(Presence.user_id, func.max(Presence.joined_at).label("latest"))
        .where(Presence.room_id == room_id, Presence.user_id.in_(wanted))
        .group_by(Presence.user_id)
        .subquery()
    )
    rows = await session.execute(
        select(Presence.user_id, Presence.seat)
        .join(
            latest,
            (Presence.room_id == room_id)
            & (Presence.user_id == latest.c.user_id)
            & (Presence.joined_at == latest.c.latest),
        )
        .order_by(Presence.id.desc())
    )
    seats: dict[int, str] = {}
    for user_id, seat in rows:
        seats.setdefault(user_id, seat)
    return seats


@dataclass
class PresenceChange:
    """What one transaction changed in a room's presence, published as one update:
    one entry per person (the last said of them), all at the version moved once."""

    people: dict[int, tuple[bool, PresenceUser | PresenceLeft]] = field(default_factory=dict)
    spectators: SpectatorCount | None = None
    ver: int | None = None

    def version(self, room: Room) -> int:
        """The room's presence version for this change: moved once, on first ask."""
        if self.ver is None:
            room.presence_ver += 1
            self.ver = room.presence_ver
        return self.ver

    def show(self, entry: PresenceUser) -> None:
        self.people.pop(entry["user_id"], None)
        self.people[entry["user_id"]] = (False, entry)

    def gone(self, user_id: int, ver: int) -> None:
        self.people.pop(user_id, None)
        self.people[user_id] = (True, {"user_id": user_id, "ver": ver})

    def publish(self, outbox: Outbox, room_id: int) -> None:
        users = [cast(PresenceUser, entry) for gone, entry in self.people.values() if not gone]
        left = [entry for gone, entry in self.people.values() if gone]
        if not (users or left or self.spectators):
            return
        message = presence_update(room_id, users, left)
        if self.spectators is not None:
            message["spectators"] = self.spectators
        outbox.room(room_id, message)


def presence_update(
    room_id: int, users: list[PresenceUser], left: list[PresenceLeft]
) -> PresenceUpdate:
    return {"type": "presence", "op": "update", "room": room_id, "users": users, "left": left}


def add_presence(
    outbox: Outbox, room_id: int, users: list[PresenceUser], left: list[PresenceLeft]
) -> None:
    """Register a presence update, to publish when the transaction commits."""
    if users or left:
        outbox.room(room_id, presence_update(room_id, users, left))


async def after_removal(
    session: AsyncSession,
    room: Room,
    user_ids: Iterable[int],
    change: PresenceChange,
    known: Mapping[int, User] | None = None,
) -> None:
    """Add to `change` the people who lost a connection: gone, or shown on the seat of
    the connection they still have. `known` are the people the caller holds already;
    the others are read, together."""
    gone = sorted(set(user_ids))
    if not gone:
        return
    seats = await latest_seats(session, room.id, gone)
    users = dict(known or {})
    unknown = [user_id for user_id in seats if user_id not in users]
    if unknown:
        rows = await session.scalars(select(User).where(User.id.in_(unknown)))
        users.update((user.id, user) for user in rows)
    ver = change.version(room)
    for user_id in gone:
        seat = seats.get(user_id)
        if seat is None:
            change.gone(user_id, ver)
        else:
            change.show(presence_entry(users[user_id], seat, ver))


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
