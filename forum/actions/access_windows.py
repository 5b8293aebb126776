"""Access windows: the chair opens part of a session to people outside its group, and
when the window ends, the people it seated move to an observer seat or leave.

Setting and removing a window follow the room's one path (lock, check, write, event,
publish after commit). The end of a window is found by the clocks of every worker
(`ws.timers`), which call `do_end_due_windows`: the first to lock the room marks the
window ended and moves its people; the others find it ended and do nothing. The room
hears `window`/`end` with whom it moved, then a presence update; each moved person's
connections, on whichever worker holds them, hear `seat` (or `left`) through their
user channel, as after a change of standing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions import admission
from forum.actions.outbox import committing
from forum.actions.presence import presence_entry, seat_of
from forum.actions.room_reads import Member, RoomKey, locked, member_of
from forum.actions.standing import Reseated, add_reseated, withdraw_speaker
from forum.broker import Broker
from forum.db.engine import end_read
from forum.db.events import append_event
from forum.db.models import AccessWindow, Attendance, Presence, Room, RoomEvent, RoomSession, User
from forum.db.queries import require_group
from forum.domain.access_windows import WindowSpec, check_set_window, seat_at_end, window_seats
from forum.domain.seats import seats_for
from forum.domain.sessions import SessionStatus
from forum.domain.vocabulary import Family, Seat
from forum.errors import N_, ErrorCode, ForumError
from forum.wire.events import Moved

REASON = "window"


async def _session_in(session: AsyncSession, room: Room, session_id: int) -> RoomSession:
    row = await session.get(RoomSession, session_id, populate_existing=True)
    if row is None or row.room_id != room.id:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such session in this room."))
    return row


async def list_windows(session: AsyncSession, session_id: int) -> Sequence[AccessWindow]:
    rows = await session.scalars(
        select(AccessWindow)
        .where(AccessWindow.session_id == session_id)
        .order_by(AccessWindow.starts_at, AccessWindow.id)
    )
    return rows.all()


async def do_set_window(
    session: AsyncSession,
    broker: Broker,
    key: RoomKey,
    *,
    user: User,
    session_id: int,
    spec: WindowSpec,
    group_slugs: Sequence[str] = (),
) -> AccessWindow:
    """Open part of a session to others (the families of `spec`, and the groups named
    by `group_slugs`); the room hears `window`/`set`."""
    async with committing(session, broker) as outbox:
        # The room first: a path naming none is refused before the groups of the body.
        room = await locked(session, key)
        groups = [await require_group(session, slug, field="groups") for slug in group_slugs]
        spec = replace(spec, group_ids=spec.group_ids | {group.id for group in groups})
        actor = await member_of(session, room, user)
        row = await _session_in(session, room, session_id)
        starts_at, ends_at = check_set_window(
            spec,
            is_chair=actor.is_chair,
            session_open_or_scheduled=row.status != SessionStatus.CLOSED.value,
            session_starts_at=row.starts_at,
            session_ends_at=row.ends_at,
        )
        window = AccessWindow(
            room_id=room.id,
            session_id=row.id,
            starts_at=starts_at,
            ends_at=ends_at,
            offset_s=None if spec.offset is None else int(spec.offset.total_seconds()),
            families=sorted(family.value for family in spec.families),
            group_ids=sorted(spec.group_ids),
            seat=spec.seat.value,
            after=spec.after.value,
            created_by=user.id,
        )
        session.add(window)
        await session.flush()
        event = await append_event(
            session,
            room,
            "window",
            "set",
            {"window": window.wire()},
            actor_id=user.id,
            session_id=row.id,
        )
        outbox.event(event)
    return window


async def do_remove_window(
    session: AsyncSession, broker: Broker, key: RoomKey, *, user: User, window_id: int
) -> RoomEvent:
    """Remove a window that has not opened yet; one open or over has seated people."""
    async with committing(session, broker) as outbox:
        room = await locked(session, key)
        actor = await member_of(session, room, user)
        window = await session.get(AccessWindow, window_id, populate_existing=True)
        if window is None or window.room_id != room.id:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such window in this room."))
        if not actor.is_chair:
            raise ForumError(
                ErrorCode.FORBIDDEN, N_("Only the chair may open a session to others.")
            )
        if window.starts_at <= admission.now():
            raise ForumError(
                ErrorCode.CONFLICT, N_("This window has opened; it runs until its end.")
            )
        await session.execute(delete(AccessWindow).where(AccessWindow.id == window.id))
        event = await append_event(
            session,
            room,
            "window",
            "remove",
            {"window": window.id},
            actor_id=user.id,
            session_id=window.session_id,
        )
        outbox.event(event)
    return event


async def do_end_due_windows(session: AsyncSession, broker: Broker) -> int:
    """End every window whose time is over; returns how many this call ended."""
    due = (
        await session.scalars(
            select(AccessWindow.id)
            .where(AccessWindow.ended_at.is_(None), AccessWindow.ends_at <= admission.now())
            .order_by(AccessWindow.ends_at, AccessWindow.id)
            .limit(100)
        )
    ).all()
    await end_read(session)
    ended = 0
    for window_id in due:
        if await do_end_window(session, broker, window_id):
            ended += 1
    return ended


async def do_end_window(session: AsyncSession, broker: Broker, window_id: int) -> bool:
    """Move the people a window seated, now that it is over. False: already done."""
    async with committing(session, broker) as outbox:
        room_id = await session.scalar(
            select(AccessWindow.room_id).where(AccessWindow.id == window_id)
        )
        if room_id is None:
            return False
        room = await locked(session, room_id)
        window = await session.get(AccessWindow, window_id, populate_existing=True)
        if window is None or window.ended_at is not None:
            return False
        moment = admission.now()
        window.ended_at = moment
        ends_at = await session.scalar(
            select(RoomSession.ends_at).where(RoomSession.id == window.session_id)
        )
        assert ends_at is not None  # noqa: S101 - windows cascade with their session
        ended = admission.window_of(window, ends_at)
        others = [
            other
            for other in await admission.windows_of_session(session, window.session_id)
            if other.id != window.id
        ]
        moved: list[Moved] = []
        notices: list[Reseated] = []
        for user_id in await _seated(session, room.id):
            user = await session.get(User, user_id)
            assert user is not None  # noqa: S101 - presence rows cascade with users
            actor = await member_of(session, room, user)
            group_ids = await admission.group_ids_of(session, user.id)
            if not ended.admits(Family(user.family), group_ids):
                continue
            allowed = seats_for(actor.role, is_secretariat=user.is_secretariat) | window_seats(
                others, family=Family(user.family), group_ids=group_ids, now=moment
            )
            done = await _move(session, room, actor, allowed, seat_at_end(ended))
            if done is not None:
                notices.append(done)
                shown = await seat_of(session, room.id, user.id)
                moved.append({"user_id": user.id, "name": user.display_name, "seat": shown})
        event = await append_event(
            session,
            room,
            "window",
            "end",
            {"window": window.id, "moved": moved},
            actor_id=None,
            session_id=window.session_id,
        )
        # In the order of their seq: hands lowered and floors taken came first.
        for done in notices:
            if done.event is not None:
                outbox.event(done.event)
                done.event = None
        outbox.event(event)
        for done in notices:
            add_reseated(outbox, done, reason=REASON)
    return True


async def _seated(session: AsyncSession, room_id: int) -> list[int]:
    rows = await session.scalars(
        select(Presence.user_id).where(Presence.room_id == room_id).distinct()
    )
    return sorted(rows)


async def _move(
    session: AsyncSession, room: Room, actor: Member, allowed: frozenset[Seat], after: Seat | None
) -> Reseated | None:
    """Move `actor`'s connections whose seat `allowed` no longer holds to `after` (None:
    out); None when none had to move."""
    user = actor.user
    rows = (
        await session.scalars(
            select(Presence)
            .where(Presence.room_id == room.id, Presence.user_id == user.id)
            .order_by(Presence.id)
        )
    ).all()
    done = Reseated(room_id=room.id, user_id=user.id, role=actor.role, chair=actor.is_chair)
    for row in rows:
        if Seat(row.seat) in allowed:
            continue
        if after is None:
            done.connections[row.id] = None
            await session.execute(delete(Presence).where(Presence.id == row.id))
        else:
            done.connections[row.id] = after.value
            row.seat = after.value
    if not done.connections:
        return None
    await session.flush()
    if after is not None and room.open_session_id is not None:
        key = (room.open_session_id, user.id, after.value)
        if await session.get(Attendance, key) is None:
            session.add(
                Attendance(
                    session_id=room.open_session_id,
                    user_id=user.id,
                    seat=after.value,
                    family=user.family,
                    first_seen=admission.now(),
                )
            )
    if after is None or after is Seat.OBSERVER:
        done.event = await withdraw_speaker(session, room, user.id, None, reason=REASON)
    room.presence_ver += 1
    shown = await seat_of(session, room.id, user.id)
    if shown is None:
        done.left.append({"user_id": user.id, "ver": room.presence_ver})
    else:
        done.users.append(presence_entry(user, shown, room.presence_ver))
    return done
