"""Observer requests: asking for an observer seat in a group's sessions, for oneself or
for a caucus one leads, and the chair's decision.

Both run under the lock of the group's room, the row whose observer policy they read,
so that two requests for the same pair, or two approvals of the last seat, cannot both
pass; the partial unique indexes on pending requests hold it too. Nothing is
published: no one is seated by a request, and the seat is taken when the approved
observer joins, like any other.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import committing
from forum.actions.room_reads import locked, member_of
from forum.actions.room_state import observer_policy_of
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.models import Group, ObserverRequest, Room, User
from forum.db.queries import require_group, role_in
from forum.domain.observer_requests import (
    RequestStatus,
    check_decide_request,
    check_request_observer,
)
from forum.domain.sessions import can_chair
from forum.domain.vocabulary import Family
from forum.errors import N_, ErrorCode, ForumError


async def _room_of(session: AsyncSession, group: Group) -> Room:
    # Every group has its room: migration 0006 made one for each group there was, and
    # making a group (the seed, the secretariat) makes its room in the same transaction:
    # `one()` cannot miss.
    room_id = (await session.scalars(select(Room.id).where(Room.group_id == group.id))).one()
    return await locked(session, room_id)


async def _exists(
    session: AsyncSession, group_id: int, status: RequestStatus, **pair: object
) -> bool:
    query = select(ObserverRequest.id).where(
        ObserverRequest.group_id == group_id, ObserverRequest.status == status.value
    )
    if pair["caucus_id"] is None:
        query = query.where(
            ObserverRequest.caucus_id.is_(None), ObserverRequest.user_id == pair["user_id"]
        )
    else:
        query = query.where(ObserverRequest.caucus_id == pair["caucus_id"])
    return await session.scalar(query.limit(1)) is not None


async def do_request_observer(
    session: AsyncSession,
    broker: Broker,
    slug: str,
    *,
    user: User,
    caucus_slug: str | None = None,
) -> ObserverRequest:
    """Ask for an observer seat in the sessions of group `slug`, for `user` or for the
    caucus `caucus_slug` that they chair or coordinate."""
    try:
        async with committing(session, broker):
            group = await require_group(session, slug)
            room = await _room_of(session, group)
            caucus = (
                None
                if caucus_slug is None
                else await require_group(session, caucus_slug, field="caucus")
            )
            leads = caucus is not None and can_chair(
                await role_in(session, caucus.id, user.id), is_secretariat=False
            )
            family = Family(caucus.family if caucus is not None else user.family)
            pair = {"user_id": user.id, "caucus_id": None if caucus is None else caucus.id}
            check_request_observer(
                family=family,
                policy=observer_policy_of(room),
                in_group=caucus is None and await role_in(session, group.id, user.id) is not None,
                for_caucus=caucus is not None,
                leads_caucus=leads,
                pending=await _exists(session, group.id, RequestStatus.PENDING, **pair),
                approved=await _exists(session, group.id, RequestStatus.APPROVED, **pair),
            )
            request = ObserverRequest(
                group_id=group.id,
                user_id=user.id,
                caucus_id=pair["caucus_id"],
                family=family.value,
                status=RequestStatus.PENDING.value,
                created_at=utcnow(),
            )
            session.add(request)
            await session.flush()
    except IntegrityError:
        # Another request for the same pair committed first.
        raise ForumError(
            ErrorCode.OBSERVER_REQUEST_PENDING,
            N_("A request for this observer seat is already waiting for the chair."),
        ) from None
    return request


async def do_decide_observer_request(
    session: AsyncSession,
    broker: Broker,
    slug: str,
    *,
    user: User,
    request_id: int,
    approve: bool,
    reason: str,
) -> ObserverRequest:
    """The chair approves a request (the seat is held for it from now on) or refuses
    it with a reason."""
    async with committing(session, broker):
        group = await require_group(session, slug)
        room = await _room_of(session, group)
        request = await session.get(ObserverRequest, request_id, populate_existing=True)
        if request is None or request.group_id != group.id:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such observer request."))
        actor = await member_of(session, room, user)
        approved = await session.scalar(
            select(func.count()).where(
                ObserverRequest.group_id == group.id,
                ObserverRequest.status == RequestStatus.APPROVED.value,
                ObserverRequest.family == request.family,
            )
        )
        request.reason = check_decide_request(
            is_chair=actor.is_chair,
            status=RequestStatus(request.status),
            approve=approve,
            reason=reason,
            family=Family(request.family),
            policy=observer_policy_of(room),
            approved_of_family=approved or 0,
        )
        request.status = (RequestStatus.APPROVED if approve else RequestStatus.REFUSED).value
        request.decided_by = user.id
        request.decided_at = utcnow()
    return request
