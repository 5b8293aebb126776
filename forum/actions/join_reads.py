"""What a join over `/ws` reads, each in one trip to the database (`forum.db.one_trip`).

Thousands of listeners join a live room at once, and every join reads the same two
things: before its seat is taken, who it is and which room it names (the person by
id, the group by slug with its room); once it is in the room's fan-out, the room (its
seq and state), the seat its connection holds there and the session open in it. Read
through a session each is a transaction (begin, statement, end) and the ORM's
bookkeeping; here each is one trip, its statements compiled once for the process, and
the rows come back as detached entities.

A meeting's room (`meeting:<id>`) is found as `room_reads.room_for` finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.room_reads import room_for
from forum.db.detached import columns_of, detached
from forum.db.engine import end_read
from forum.db.models import Group, Presence, Room, RoomSession, User
from forum.db.one_trip import Statements, read_alone, read_block
from forum.db.principals import user_by_id
from forum.db.queries import require_group
from forum.domain.meetings import meeting_id_in
from forum.errors import N_, ErrorCode, ForumError

_groups = cast(Table, Group.__table__)
_rooms = cast(Table, Room.__table__)
_presence = cast(Table, Presence.__table__)
_sessions = cast(Table, RoomSession.__table__)
_GROUP_FIELDS = columns_of(Group)
_ROOM_FIELDS = columns_of(Room)
_SESSION_FIELDS = columns_of(RoomSession)

# The group and its room, as `room_for` reads them.
_GROUP_ROOM = (
    select(*_groups.columns, *_rooms.columns)
    .select_from(_groups.outerjoin(_rooms, _rooms.c.group_id == _groups.c.id))
    .where(_groups.c.slug == bindparam("slug"))
)
# The room, the seat the connection holds in it, its open session: one statement, one
# snapshot, so that the seat and the state agree with `seq`.
_ENTERED = (
    select(*_rooms.columns, _presence.c.seat, *_sessions.columns)
    .select_from(
        _rooms.outerjoin(
            _presence,
            (_presence.c.id == bindparam("connection")) & (_presence.c.room_id == _rooms.c.id),
        ).outerjoin(_sessions, _sessions.c.id == _rooms.c.open_session_id)
    )
    .where(_rooms.c.id == bindparam("room"))
)


@dataclass(frozen=True)
class Joining:
    """Who joins (None: signed out) and the room the join names, with its group."""

    user: User | None
    group: Group
    room: Room


@dataclass(frozen=True)
class Entered:
    """The room as a connection that has entered its fan-out reads it."""

    room: Room
    held: str | None  # the seat the connection holds in the room, if any
    open_session: RoomSession | None


async def joining(session: AsyncSession, slug: str, user_id: int | None) -> Joining:
    """The person (gone: refused as signed out) and the room named by `slug`."""
    if meeting_id_in(slug) is not None:
        user = await session.get(User, user_id) if user_id is not None else None
        await end_read(session)
        _check_user(user_id, user)
        group, room = await room_for(session, slug)
        return Joining(user, group, room)

    def read(statements: Statements) -> tuple[User | None, list[tuple[object, ...]]]:
        user = user_by_id(statements, user_id) if user_id is not None else None
        return user, statements.rows(_GROUP_ROOM, {"slug": slug})

    user, rows = await read_block(session, read)
    _check_user(user_id, user)
    if not rows:
        # No group: refused as `require_group` refuses, naming it.
        await require_group(session, slug)
    values = rows[0] if rows else None
    split = len(_GROUP_FIELDS)
    if values is None or values[split] is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("This group has no room."))
    group = detached(Group, _GROUP_FIELDS, values[:split])
    return Joining(user, group, detached(Room, _ROOM_FIELDS, values[split:]))


def _check_user(user_id: int | None, user: User | None) -> None:
    if user_id is not None and user is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to take part."))


async def entered(session: AsyncSession, room_id: int, connection_id: str) -> Entered | None:
    """The room, the connection's seat in it and its open session (None: no room)."""
    rows = await read_alone(session, _ENTERED, {"room": room_id, "connection": connection_id})
    if not rows:
        return None
    values = rows[0]
    split = len(_ROOM_FIELDS)
    room = detached(Room, _ROOM_FIELDS, values[:split])
    held = cast(str | None, values[split])
    columns = values[split + 1 :]
    open_session = None
    if columns[_SESSION_FIELDS.index("id")] is not None:
        open_session = detached(RoomSession, _SESSION_FIELDS, columns)
    return Entered(room, held, open_session)
