"""Signed-out spectators: watching a room's proceedings live, read-only, counted.

A spectator has no account, so the room cannot list them; it shows how many there are.
Each spectator connection is a row, like a seat's presence row, so that every worker
counts those of all workers and a crashed worker's spectators are swept. A change of
the count bumps the room's `presence_ver` and is published as a presence update
carrying `spectators: {"count", "ver"}`; clients keep the count of the highest version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import Outbox, committing
from forum.actions.room_reads import locked
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.models import Room, Spectator
from forum.db.queries import rooms_seen_before
from forum.wire.events import PresenceUpdate
from forum.wire.room import SpectatorCount


async def count_spectators(session: AsyncSession, room_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Spectator).where(Spectator.room_id == room_id)
        )
        or 0
    )


async def _bump(session: AsyncSession, room: Room) -> SpectatorCount:
    room.presence_ver += 1
    return {"count": await count_spectators(session, room.id), "ver": room.presence_ver}


def _add_count(outbox: Outbox, room_id: int, spectators: SpectatorCount) -> None:
    message: PresenceUpdate = {
        "type": "presence",
        "op": "update",
        "room": room_id,
        "users": [],
        "left": [],
        "spectators": spectators,
    }
    outbox.room(room_id, message)


async def do_watch_room(
    session: AsyncSession, broker: Broker, room_id: int, *, connection_id: str, worker: str
) -> None:
    """Count a signed-out connection among the room's spectators."""
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        now = utcnow()
        session.add(
            Spectator(id=connection_id, room_id=room.id, worker=worker, joined_at=now, seen_at=now)
        )
        await session.flush()
        _add_count(outbox, room_id, await _bump(session, room))


async def do_stop_watching(
    session: AsyncSession, broker: Broker, room_id: int, *, connection_id: str
) -> None:
    async with committing(session, broker) as outbox:
        room = await locked(session, room_id)
        gone = await session.execute(delete(Spectator).where(Spectator.id == connection_id))
        if not gone.rowcount:  # type: ignore[attr-defined]
            return
        _add_count(outbox, room_id, await _bump(session, room))


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
            _add_count(outbox, room_id, await _bump(session, room))
        removed += count
    return removed
