"""Reads of a group's members for its page: by role, leaders first, with what anyone
may see of each person (never an e-mail address)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.models import Membership, User
from forum.domain.vocabulary import Role

# The order a group's page lists its roles in: who leads it, who answers for it, then
# everyone else.
ROLE_ORDER = (Role.CHAIR, Role.COORDINATOR, Role.CONTACT_POINT, Role.MEMBER, Role.OBSERVER)
# A large caucus lists this many on its page; the counts by role stay whole.
MEMBERS_SHOWN = 500


@dataclass(frozen=True, slots=True)
class MemberItem:
    user_id: int
    display_name: str
    organization: str
    country: str
    family: str
    role: str


@dataclass(frozen=True)
class GroupMembers:
    by_role: dict[str, list[MemberItem]]
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def shown(self) -> int:
        return sum(len(members) for members in self.by_role.values())


async def list_members_by_role(
    session: AsyncSession, group_id: int, *, limit: int = MEMBERS_SHOWN
) -> GroupMembers:
    """Two statements: the members shown, in role order then by name, and the count of
    each role."""
    rank = case({role.value: n for n, role in enumerate(ROLE_ORDER)}, value=Membership.role)
    rows = await session.execute(
        select(
            User.id,
            User.display_name,
            User.organization,
            User.country,
            User.family,
            Membership.role,
        )
        .join(User, User.id == Membership.user_id)
        .where(Membership.group_id == group_id)
        .order_by(rank, User.display_name, User.id)
        .limit(limit)
    )
    by_role: dict[str, list[MemberItem]] = {role.value: [] for role in ROLE_ORDER}
    for row in rows.all():
        by_role.setdefault(row.role, []).append(MemberItem(*row))
    counts = dict.fromkeys(by_role, 0)
    found = await session.execute(
        select(Membership.role, func.count())
        .where(Membership.group_id == group_id)
        .group_by(Membership.role)
    )
    counts.update({role: int(count) for role, count in found.all()})
    return GroupMembers(by_role, counts)
