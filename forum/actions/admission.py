"""Who may sit in a room beyond what their standing in its group allows: the access
windows of the open session and the approved observer requests.

Read inside the seat action's own transaction, under the room's lock, so that the
answer holds until it commits. `clock` is the time these rules read (tests move it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.room_reads import Member
from forum.db.base import utcnow
from forum.db.models import AccessWindow, Membership, ObserverRequest, Presence, Room, RoomSession
from forum.domain.access_windows import (
    AfterWindow,
    Window,
    check_window_admission,
    window_seats,
)
from forum.domain.observer_requests import Approval, RequestStatus, observer_admission
from forum.domain.seats import check_seat_held, seats_for
from forum.domain.vocabulary import Family, Seat

clock: Callable[[], datetime] = utcnow


def now() -> datetime:
    return clock()


def window_of(row: AccessWindow, session_ends_at: datetime) -> Window:
    return Window(
        id=row.id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        seat=Seat(row.seat),
        after=AfterWindow(row.after),
        families=frozenset(Family(family) for family in row.families),
        group_ids=frozenset(int(group_id) for group_id in row.group_ids),
        session_ends_at=session_ends_at,
    )


async def windows_of_session(session: AsyncSession, session_id: int) -> list[Window]:
    """The windows of a session, each with the end of its session (every window has
    one: windows cascade with their session)."""
    rows = await session.execute(
        select(AccessWindow, RoomSession.ends_at)
        .join(RoomSession, RoomSession.id == AccessWindow.session_id)
        .where(AccessWindow.session_id == session_id)
        .order_by(AccessWindow.starts_at, AccessWindow.id)
    )
    return [window_of(row, ends_at) for row, ends_at in rows]


async def group_ids_of(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.scalars(select(Membership.group_id).where(Membership.user_id == user_id))
    return list(rows)


async def window_seats_now(
    session: AsyncSession, room: Room, actor: Member, *, upcoming: bool = False
) -> frozenset[Seat]:
    """The seats the open session's windows give someone now, beyond their standing;
    with `upcoming`, also those of windows still to open (what a page offers, so that
    asking early is told when)."""
    if room.open_session_id is None:
        return frozenset()
    windows = await windows_of_session(session, room.open_session_id)
    if not windows:
        return frozenset()
    family = Family(actor.user.family)
    group_ids = await group_ids_of(session, actor.user.id)
    moment = now()
    seats = window_seats(windows, family=family, group_ids=group_ids, now=moment)
    if upcoming:
        for window in windows:
            if window.admits(family, group_ids) and moment < window.starts_at:
                seats |= window.seats()
    return seats


async def check_admission(
    session: AsyncSession,
    room: Room,
    actor: Member,
    seat: Seat,
    observers: Mapping[int, Family],
) -> tuple[bool, dict[int, Family]]:
    """Whether a window or an approved request seats `actor` on `seat` (True), and
    otherwise the observers the room's own rule counts them against.

    Refuses (`access_window_closed`) someone a window admits at another time.
    """
    user = actor.user
    if seat is not Seat.OBSERVER and seat in seats_for(
        actor.role, is_secretariat=user.is_secretariat
    ):
        return False, dict(observers)
    group_ids = await group_ids_of(session, user.id)
    if room.open_session_id is not None:
        windows = await windows_of_session(session, room.open_session_id)
        if windows and check_window_admission(
            seat, windows, family=Family(user.family), group_ids=group_ids, now=now()
        ):
            return True, dict(observers)
    if seat is not Seat.OBSERVER or room.group_id is None:
        # A meeting's room takes no observer requests: its people are named to it.
        return False, dict(observers)
    approvals = await approvals_of(session, room.group_id)
    if not approvals:
        return False, dict(observers)
    filled = await filled_caucuses(session, room.id, approvals)
    return observer_admission(
        user_id=user.id,
        caucus_ids=group_ids,
        approvals=approvals,
        observers=observers,
        filled_caucuses=filled,
    )


async def approvals_of(session: AsyncSession, group_id: int) -> list[Approval]:
    rows = await session.execute(
        select(ObserverRequest.user_id, ObserverRequest.caucus_id, ObserverRequest.family)
        .where(
            ObserverRequest.group_id == group_id,
            ObserverRequest.status == RequestStatus.APPROVED.value,
        )
        .order_by(ObserverRequest.id)
    )
    return [Approval(user_id, caucus_id, Family(family)) for user_id, caucus_id, family in rows]


async def filled_caucuses(
    session: AsyncSession, room_id: int, approvals: Sequence[Approval]
) -> set[int]:
    """The approved caucuses one of whose members sits as an observer now."""
    caucuses = {approval.caucus_id for approval in approvals if approval.caucus_id is not None}
    if not caucuses:
        return set()
    rows = await session.scalars(
        select(Membership.group_id)
        .join(Presence, Presence.user_id == Membership.user_id)
        .where(
            Presence.room_id == room_id,
            Presence.seat == Seat.OBSERVER.value,
            Membership.group_id.in_(caucuses),
        )
        .distinct()
    )
    return set(rows)


async def check_held(session: AsyncSession, room: Room, actor: Member, seat: Seat) -> None:
    """The seat a connection took still holds: by the person's standing, or by a
    window open now (`check_seat_held` otherwise refuses with `seat_revoked`)."""
    user = actor.user
    if seat in seats_for(actor.role, is_secretariat=user.is_secretariat):
        return
    if seat in await window_seats_now(session, room, actor):
        return
    check_seat_held(seat, role=actor.role, is_secretariat=user.is_secretariat)
