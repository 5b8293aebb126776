"""Signed-out spectators: watching a room's proceedings live, read-only, counted.

A spectator has no account, so the room cannot list them; it shows how many there are.
Each spectator connection is a row, like a seat's presence row, so that every worker
counts those of all workers and a crashed worker's spectators are swept. A change of
the count bumps the room's `presence_ver` and is published as a presence update
carrying `spectators: {"count", "ver"}`; clients keep the count of the highest version.

`watch` and `stop_watching` work inside the caller's transaction, for many connections
at once (the seat actions' batches, `forum.actions.seats`); the `do_` actions are one
connection's, in a transaction of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import committing
from forum.actions.presence import PresenceChange, count_spectators
from forum.actions.room_reads import locked
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.models import Room, Spectator
from forum.db.queries import rooms_seen_before


async def _counted(session: AsyncSession, room: Room, change: PresenceChange) -> None:
    ver = change.version(room)
    change.spectators = {"count": await count_spectators(session, room.id), "ver": ver}


async def watch(
    session: AsyncSession, room: Room, change: PresenceChange, watchers: Sequence[tuple[str, str]]
) -> None:
    """Count these connections (id, worker) among the room's spectators: one insert."""
    now = utcnow()
    await session.execute(
        insert(Spectator),
        [
            {"id": connection_id, "room_id": room.id, "worker": worker}
            | {"joined_at": now, "seen_at": now}
            for connection_id, worker in watchers
        ],
    )
    await _counted(session, room, change)


async def stop_watching(
    session: AsyncSession, room: Room, change: PresenceChange, connection_ids: Sequence[str]
) -> None:
    gone = await session.execute(delete(Spectator).where(Spectator.id.in_(connection_ids)))
    if gone.rowcount:  # type: ignore[attr-defined]
        await _counted(session, room, change)


async def do_watch_room(
    session: AsyncSession, broker: Broker, room_id: int, *, connection_id: str, worker: str
) -> None:
    """Count a signed-out connection among the room's spectators."""
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        change = PresenceChange()
        await watch(session, room, change, [(connection_id, worker)])
        change.publish(outbox, room_id)


async def do_stop_watching(
    session: AsyncSession, broker: Broker, room_id: int, *, connection_id: str
) -> None:
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        change = PresenceChange()
        await stop_watching(session, room, change, [connection_id])
        change.publish(outbox, room_id)


async def touch_spectators(session: AsyncSession, *, worker: str, now: datetime) -> None:
    """Within the caller's transaction: mark this worker's spectators as alive."""
    await session.execute(update(Spectator).where(Spectator.worker == worker).values(seen_at=now))


async def sweep_spectators(session: AsyncSession, broker: Broker, *, cutoff: datetime) -> int:
    """Remove spectators whose worker stopped refreshing them (it died)."""
    stale = await rooms_seen_before(session, Spectator, cutoff)
    removed = 0
    for room_id in stale:
        async with committing(session, broker) as outbox:
            room = await locked(session, room_id)
            gone = await session.execute(
                delete(Spectator).where(Spectator.room_id == room_id, Spectator.seen_at < cutoff)
            )
            count = int(gone.rowcount or 0)  # type: ignore[attr-defined]
            change = PresenceChange()
            await _counted(session, room, change)
            change.publish(outbox, room_id)
        removed += count
    return removed
