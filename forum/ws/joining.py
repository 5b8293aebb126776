"""Joining a room over `/ws`: on a seat (signed in) or as a spectator (signed out).

A join answers with `joined`: the room's state (or, with `since`, the events missed),
and a fresh presence snapshot. A refused join changes nothing: a connection already
seated keeps its room and seat, because the new seat is taken, and the old one given
up, in one transaction.
"""

from __future__ import annotations

import asyncio
from typing import cast
from weakref import WeakKeyDictionary

from sqlalchemy import select

from forum.actions.join_reads import entered, joining
from forum.actions.meetings import check_watch_meeting
from forum.actions.presence import get_presence
from forum.actions.room_reads import open_session_of
from forum.actions.room_state import state_wire
from forum.db.events import events_after
from forum.db.models import Group, Presence, Room, RoomEvent, RoomSession
from forum.domain.seats import check_watch
from forum.domain.vocabulary import Seat
from forum.errors import N_, ErrorCode, ForumError
from forum.state import AppState
from forum.wire.frames import Joined
from forum.wire.room import PresenceSnapshot
from forum.ws.connection import Connection
from forum.ws.hub import Hub
from forum.ws.protocol import MAX_REPLAY, SPECTATOR, Join, encode


async def join_room(
    state: AppState, hub: Hub, connection: Connection, frame: Join, *, signed_in: bool
) -> None:
    """Join the room `frame` names; `signed_in`: with the session the connection
    signed in with (its person is read afresh)."""
    seat = None if frame.seat == SPECTATOR else Seat(frame.seat)
    user_id = connection.user_id if signed_in and connection.session_id is not None else None
    check_watch(signed_in=user_id is not None, seat=seat)
    sessionmaker = state["sessionmaker"]
    seating = state["seating"]
    async with sessionmaker() as session:
        found = await joining(session, frame.room, user_id)
        group, room, user = found.group, found.room, found.user
        if seat is None:
            await check_watch_meeting(session, room)
    if seat is None:
        # Nothing refuses a spectator from here on, so the old room may go first.
        if connection.room_id is not None:
            await hub.leave(connection)
        await seating.watch(connection, room.id, worker=hub.worker)
        connection.watching = True
    else:
        # Seated with the joins that arrive meanwhile, in one transaction (`Seating`).
        assert user is not None  # noqa: S101 - check_watch refused a signed-out seat
        await seating.take(connection, room.id, seat, user=user, worker=hub.worker)
        if connection.room_id is not None and connection.room_id != room.id:
            # The seat in the old room went with the take above; only delivery is left.
            await hub.leave(connection, release_seat=False)
        connection.seat = seat
    # Subscribe before reading: whatever commits from here on arrives live, and
    # what was committed before is in the reads below. Overlaps are dropped by seq.
    connection.start_joining()
    try:
        await _enter(state, hub, connection, group, room, seat, frame)
    except BaseException:
        connection.join_failed()
        raise


async def _enter(
    state: AppState,
    hub: Hub,
    connection: Connection,
    group: Group,
    room: Room,
    seat: Seat | None,
    frame: Join,
) -> None:
    """Enter the room's fan-out, then queue the answer: snapshot or replay, presence."""
    await hub.enter(connection, room.id)
    read = await _fresh(state, hub, connection, room.id) if frame.since is None else None
    if read is None:
        read = await _read(state, hub, connection, group, room, frame)
    room_row, held, open_session, replay, presence = read
    if seat is not None:
        # A change of standing that committed between taking the seat and entering
        # the room sent its notice before this connection could be found in it.
        if held is None:
            connection.holding, connection.seat = None, None
            await hub.leave(connection)
            raise ForumError(
                ErrorCode.SEAT_REVOKED,
                N_("Your role in this group changed as you joined: join again."),
            )
        seat = connection.seat = Seat(held)
    since = frame.since
    room_state = None
    if since is None or since > room_row.last_seq or len(replay) > MAX_REPLAY:
        # A resync: the group's names as the join found them; the rest as of `last_seq`.
        room_state = state_wire(room_row, group, open_session)
        replay = []
        upto = room_row.last_seq
    else:
        upto = replay[-1].seq if replay else since
    joined: Joined = {
        "type": "joined",
        "room": room.id,
        "seat": SPECTATOR if seat is None else seat.value,
        "seq": upto,
        "state": room_state,
        "presence": presence,
        "replay": len(replay),
    }
    if frame.ref is not None:
        joined["ref"] = frame.ref
    first: list[tuple[int | None, str]] = [(None, encode(joined))]
    first.extend((event.seq, encode(event.wire())) for event in replay)
    connection.release(first, upto)


_Read = tuple[Room, str | None, RoomSession | None, list[RoomEvent], PresenceSnapshot]


async def _fresh(state: AppState, hub: Hub, connection: Connection, room_id: int) -> _Read | None:
    """A join without `since`: the room, the seat held and the open session in one
    trip, and the presence this worker has read at the room's version already (or
    reads, once for the joins that enter together). None: no such room."""
    async with state["sessionmaker"]() as session:
        found = await entered(session, room_id, connection.id)
    if found is None:
        return None
    presence = hub.presence_snapshot(room_id, found.room.presence_ver)
    if presence is None:
        presence = await _presence(state, hub, room_id, found.room.presence_ver)
    return found.room, found.held, found.open_session, [], presence


# The presence reads under way, by hub and room: the joins a batch seated enter the
# room together and find its presence at a version none has read yet; one read is
# enough for all of them, not one each of a room thousands are in.
_reading: WeakKeyDictionary[Hub, dict[int, asyncio.Task[PresenceSnapshot]]] = WeakKeyDictionary()


async def _presence(state: AppState, hub: Hub, room_id: int, ver: int) -> PresenceSnapshot:
    """The room's presence at version `ver` or later, read by this join or by one that
    began reading after `ver` was read: it was committed before that read began, then,
    and the read shows it (a later version too, which the client applies again, and
    which changes nothing)."""
    reads = _reading.setdefault(hub, {})
    while True:
        task = reads.get(room_id)
        own = task is None
        if task is None:
            task = reads[room_id] = asyncio.create_task(_read_presence(state, room_id))
            task.add_done_callback(lambda done: _read_done(reads, room_id, done))
        # Shielded: a join that goes does not cancel the read the others wait for.
        snapshot = await asyncio.shield(task)
        if own or snapshot["ver"] >= ver:
            hub.keep_presence_snapshot(room_id, snapshot)
            return snapshot
        # A read begun before `ver` was committed may not show it: read again.
        if reads.get(room_id) is task:
            del reads[room_id]


async def _read_presence(state: AppState, room_id: int) -> PresenceSnapshot:
    async with state["sessionmaker"]() as session:
        return await get_presence(session, room_id)


def _read_done(
    reads: dict[int, asyncio.Task[PresenceSnapshot]],
    room_id: int,
    task: asyncio.Task[PresenceSnapshot],
) -> None:
    if reads.get(room_id) is task:
        del reads[room_id]
    if not task.cancelled():
        task.exception()  # told to those who waited; retrieved here for those who went


async def _read(
    state: AppState, hub: Hub, connection: Connection, group: Group, room: Room, frame: Join
) -> _Read:
    """The room, the seat held, the events missed since `since` (or the open session
    for a resync) and the presence, in one transaction."""
    async with state["sessionmaker"]() as session:
        # The room (its seq, its state) and the seat this connection holds in it, in
        # one statement.
        found = (
            await session.execute(
                select(Room, Presence.seat)
                .outerjoin(Presence, (Presence.id == connection.id) & (Presence.room_id == Room.id))
                .where(Room.id == room.id)
            )
        ).one()
        room_row, held = found[0], cast(str | None, found[1])
        last_seq, since = room_row.last_seq, frame.since
        replay: list[RoomEvent] = []
        if since is not None and since <= last_seq:
            replay = list(await events_after(session, room.id, since, limit=MAX_REPLAY + 1))
        open_session = None
        if since is None or since > last_seq or len(replay) > MAX_REPLAY:
            open_session = await open_session_of(session, room_row)
        presence = hub.presence_snapshot(room.id, room_row.presence_ver)
        if presence is None:
            presence = await get_presence(session, room.id)
            hub.keep_presence_snapshot(room.id, presence)
    return room_row, held, open_session, replay, presence
