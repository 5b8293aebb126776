"""A room's numbered events: append with the room's next `seq`, replay after a `seq`.

The `seq` comes from the database (one UPDATE ... RETURNING on the room row inside the
action's write transaction), so it is one gapless sequence per room however many
workers write to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from forum.db.base import utcnow
from forum.db.models import Group, Room, RoomEvent
from forum.wire.events import RoomEventData


async def lock_room(session: AsyncSession, room_id: int) -> Room | None:
    """The room row, locked for the rest of the transaction.

    PostgreSQL takes a row lock; SQLite already holds the database's write lock from
    `BEGIN IMMEDIATE`. Either way the state read here cannot change before commit.
    """
    return await session.scalar(
        select(Room)
        .where(Room.id == room_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def lock_group_room(session: AsyncSession, slug: str) -> Room | None:
    """The room of the group `slug`, locked as `lock_room` locks it (the room row only)."""
    return await session.scalar(
        select(Room)
        .join(Group, Group.id == Room.group_id)
        .where(Group.slug == slug)
        .with_for_update(of=Room)
        .execution_options(populate_existing=True)
    )


async def append_event(
    session: AsyncSession,
    room: Room,
    type_: str,
    op: str,
    data: RoomEventData | None,
    *,
    actor_id: int | None,
    session_id: int | None = None,
) -> RoomEvent:
    """Write the room's next event. It belongs to `session_id`, by default the session
    open in the room (None between sessions). Data None: the caller sets `event.data`
    before the flush, when the data names the event's own `seq`."""
    seq = await session.scalar(
        update(Room)
        .where(Room.id == room.id)
        .values(last_seq=Room.last_seq + 1)
        .returning(Room.last_seq)
        .execution_options(synchronize_session=False)
    )
    assert seq is not None  # noqa: S101 - the room row is locked by this transaction
    set_committed_value(room, "last_seq", seq)
    event = RoomEvent(
        room_id=room.id,
        seq=seq,
        session_id=session_id if session_id is not None else room.open_session_id,
        type=type_,
        op=op,
        data={} if data is None else data,
        actor_id=actor_id,
        created_at=utcnow(),
    )
    session.add(event)
    return event


async def events_after(
    session: AsyncSession, room_id: int, after: int, *, limit: int, upto: int | None = None
) -> Sequence[RoomEvent]:
    """Events of a room with `after < seq (<= upto)`, oldest first, at most `limit`."""
    query = select(RoomEvent).where(RoomEvent.room_id == room_id, RoomEvent.seq > after)
    if upto is not None:
        query = query.where(RoomEvent.seq <= upto)
    return (await session.scalars(query.order_by(RoomEvent.seq).limit(limit))).all()
