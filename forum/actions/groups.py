"""Joining and leaving groups; the secretariat and chairs managing memberships."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import Outbox, committing
from forum.actions.standing import add_reseated, reseat
from forum.broker import Broker, user_channel
from forum.db.models import Group, Membership, User
from forum.db.queries import get_membership, require_group
from forum.domain.bureaus import COUNTED_ROLES, check_bureau_sizes
from forum.domain.membership import GroupFacts, check_assign_role, check_self_join
from forum.domain.vocabulary import Family, GroupKind, Role
from forum.errors import N_, ErrorCode, ForumError
from forum.wire.events import MembershipChanged

log = logging.getLogger(__name__)


def facts(group: Group) -> GroupFacts:
    return GroupFacts(kind=GroupKind(group.kind), family=Family(group.family))


async def _check_bureaus_after(
    session: AsyncSession, group: Group, user_id: int, new_role: Role | None
) -> None:
    """Paragraph 27a, checked inside the write transaction with the bureaus locked."""
    if group.kind != GroupKind.BUREAU:
        return
    # Lock the bureau rows (PostgreSQL) so that two concurrent additions cannot both
    # pass the check; SQLite's BEGIN IMMEDIATE already serializes writers.
    bureaus = (
        await session.scalars(select(Group).where(Group.kind == GroupKind.BUREAU).with_for_update())
    ).all()
    rows = await session.execute(
        select(Membership.group_id, func.count())
        .where(
            Membership.group_id.in_([b.id for b in bureaus]),
            Membership.role.in_([r.value for r in COUNTED_ROLES]),
            Membership.user_id != user_id,
        )
        .group_by(Membership.group_id)
    )
    counted = dict(rows.all())
    sizes: dict[Family, int] = {}
    for bureau in bureaus:
        size = counted.get(bureau.id, 0)
        if bureau.id == group.id and new_role in COUNTED_ROLES:
            size += 1
        sizes[Family(bureau.family)] = sizes.get(Family(bureau.family), 0) + size
    # The person's other bureau seats count as they are; only this group changes.
    others = await session.execute(
        select(Group.family, func.count())
        .join(Membership, Membership.group_id == Group.id)
        .where(
            Group.kind == GroupKind.BUREAU,
            Group.id != group.id,
            Membership.user_id == user_id,
            Membership.role.in_([r.value for r in COUNTED_ROLES]),
        )
        .group_by(Group.family)
    )
    for family, count in others:
        sizes[Family(family)] = sizes.get(Family(family), 0) + count
    check_bureau_sizes(sizes)


def _add_membership(outbox: Outbox, user_id: int, group: Group, role: Role | None) -> None:
    changed: MembershipChanged = {
        "type": "membership",
        "op": "update",
        "group": group.slug,
        "role": None if role is None else str(role),
    }
    outbox.add(user_channel(user_id), changed)


async def do_join_group(
    session: AsyncSession, broker: Broker, *, user: User, slug: str, role: Role | None = None
) -> Membership:
    async with committing(session, broker) as outbox:
        group = await require_group(session, slug)
        granted = check_self_join(facts(group), Family(user.family), role)
        if await get_membership(session, group.id, user.id) is not None:
            raise ForumError(
                ErrorCode.ALREADY_MEMBER, N_("You are a member of this group already.")
            )
        await _check_bureaus_after(session, group, user.id, granted)
        membership = Membership(group_id=group.id, user_id=user.id, role=granted)
        session.add(membership)
        # An observer of the room who joins as a member moves to a participant seat.
        reseated = await reseat(
            session, group_id=group.id, user_id=user.id, role=granted, actor_id=user.id
        )
        _add_membership(outbox, user.id, group, granted)
        add_reseated(outbox, reseated)
    return membership


async def do_leave_group(session: AsyncSession, broker: Broker, *, user: User, slug: str) -> None:
    async with committing(session, broker) as outbox:
        group = await require_group(session, slug)
        membership = await get_membership(session, group.id, user.id)
        if membership is None:
            raise ForumError(ErrorCode.NOT_MEMBER, N_("You are not a member of this group."))
        await _check_bureaus_after(session, group, user.id, None)
        await session.delete(membership)
        reseated = await reseat(
            session, group_id=group.id, user_id=user.id, role=None, actor_id=user.id
        )
        _add_membership(outbox, user.id, group, None)
        add_reseated(outbox, reseated)


async def do_set_member_role(
    session: AsyncSession,
    broker: Broker,
    *,
    actor: User,
    slug: str,
    user_id: int,
    role: Role | None,
) -> Membership | None:
    """Add, change or (role None) remove a member of the group `slug`, as the
    secretariat or the group's chair."""
    async with committing(session, broker) as outbox:
        group = await require_group(session, slug)
        actor_membership = await get_membership(session, group.id, actor.id)
        current = await get_membership(session, group.id, user_id)
        check_assign_role(
            is_secretariat=actor.is_secretariat,
            actor_role=Role(actor_membership.role) if actor_membership else None,
            new_role=role if role is not None else Role.MEMBER,
            current_role=Role(current.role) if current else None,
        )
        if await session.get(User, user_id) is None:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such person."), field="user_id")
        if current is None and role is None:
            raise ForumError(ErrorCode.NOT_MEMBER, N_("This person is not a member of the group."))
        await _check_bureaus_after(session, group, user_id, role)
        previous = Role(current.role) if current is not None else None
        if current is not None and role is None:
            await session.delete(current)
            result = None
        elif role is not None and current is None:
            result = Membership(group_id=group.id, user_id=user_id, role=role)
            session.add(result)
        elif role is not None and current is not None:
            current.role = role
            result = current
        reseated = None
        if previous != role:
            reseated = await reseat(
                session, group_id=group.id, user_id=user_id, role=role, actor_id=actor.id
            )
        _add_membership(outbox, user_id, group, role)
        add_reseated(outbox, reseated)
    return result
