"""Reads shared by the HTTP and WebSocket layers. Nothing here writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.models import (
    ActionLine,
    FamilyRequest,
    Group,
    GroupActionLine,
    Membership,
    Presence,
    Spectator,
    User,
)
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError


async def list_action_lines(session: AsyncSession, kind: str | None = None) -> Sequence[ActionLine]:
    query = select(ActionLine).order_by(ActionLine.position, ActionLine.code)
    if kind is not None:
        query = query.where(ActionLine.kind == kind)
    return (await session.scalars(query)).all()


async def get_action_line(session: AsyncSession, code: str) -> ActionLine | None:
    return await session.scalar(select(ActionLine).where(ActionLine.code == code))


async def list_groups(
    session: AsyncSession,
    *,
    kind: str | None = None,
    family: str | None = None,
    action_line: str | None = None,
) -> Sequence[Group]:
    query = select(Group).order_by(Group.kind, Group.name)
    if kind is not None:
        query = query.where(Group.kind == kind)
    if family is not None:
        query = query.where(Group.family == family)
    if action_line is not None:
        query = (
            query.join(GroupActionLine, GroupActionLine.group_id == Group.id)
            .join(ActionLine, ActionLine.id == GroupActionLine.action_line_id)
            .where(ActionLine.code == action_line)
        )
    return (await session.scalars(query)).all()


async def get_group(session: AsyncSession, slug: str) -> Group | None:
    return await session.scalar(select(Group).where(Group.slug == slug))


async def require_group(session: AsyncSession, slug: str, *, field: str | None = None) -> Group:
    """The group, or a not-found refusal naming it (and the request field it came from)."""
    group = await get_group(session, slug)
    if group is None:
        raise group_not_found(slug, field=field)
    return group


def group_not_found(slug: str, *, field: str | None = None) -> ForumError:
    return ForumError(
        ErrorCode.NOT_FOUND, N_("No group '{slug}'."), field=field, params={"slug": slug[:80]}
    )


async def get_group_by_id(session: AsyncSession, group_id: int) -> Group | None:
    return await session.get(Group, group_id)


async def group_action_line_codes(
    session: AsyncSession, group_ids: Sequence[int]
) -> dict[int, list[str]]:
    rows = await session.execute(
        select(GroupActionLine.group_id, ActionLine.code)
        .join(ActionLine, ActionLine.id == GroupActionLine.action_line_id)
        .where(GroupActionLine.group_id.in_(group_ids))
        .order_by(ActionLine.position)
    )
    codes: dict[int, list[str]] = {group_id: [] for group_id in group_ids}
    for group_id, code in rows:
        codes[group_id].append(code)
    return codes


async def member_counts(session: AsyncSession, group_ids: Sequence[int]) -> dict[int, int]:
    rows = await session.execute(
        select(Membership.group_id, func.count())
        .where(Membership.group_id.in_(group_ids))
        .group_by(Membership.group_id)
    )
    counts = dict.fromkeys(group_ids, 0)
    counts.update(dict(rows.all()))
    return counts


async def list_members(session: AsyncSession, group_id: int) -> Sequence[tuple[Membership, User]]:
    rows = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.group_id == group_id)
        .order_by(Membership.created_at, Membership.id)
    )
    return rows.all()


async def get_membership(session: AsyncSession, group_id: int, user_id: int) -> Membership | None:
    return await session.scalar(
        select(Membership).where(Membership.group_id == group_id, Membership.user_id == user_id)
    )


async def role_in(session: AsyncSession, group_id: int, user_id: int) -> Role | None:
    membership = await get_membership(session, group_id, user_id)
    return Role(membership.role) if membership else None


async def memberships_of(session: AsyncSession, user_id: int) -> Sequence[tuple[Membership, Group]]:
    rows = await session.execute(
        select(Membership, Group)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.user_id == user_id)
        .order_by(Group.name)
    )
    return rows.all()


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def rooms_seen_before(
    session: AsyncSession, model: type[Presence] | type[Spectator], cutoff: datetime
) -> Sequence[int]:
    """The rooms holding rows of `model` (seats or spectators) that no worker has
    refreshed since `cutoff`: their worker died, and the rows are to be swept."""
    async with session.begin():
        found = await session.execute(
            select(model.room_id).where(model.seen_at < cutoff).distinct()
        )
        return found.scalars().all()


async def pending_family_request(session: AsyncSession, user_id: int) -> FamilyRequest | None:
    return await session.scalar(
        select(FamilyRequest).where(
            FamilyRequest.user_id == user_id, FamilyRequest.status == "pending"
        )
    )


async def list_pending_family_requests(
    session: AsyncSession,
) -> Sequence[tuple[FamilyRequest, User]]:
    """The requests waiting for the secretariat, oldest first."""
    rows = await session.execute(
        select(FamilyRequest, User)
        .join(User, User.id == FamilyRequest.user_id)
        .where(FamilyRequest.status == "pending")
        .order_by(FamilyRequest.created_at, FamilyRequest.id)
    )
    return rows.all()
