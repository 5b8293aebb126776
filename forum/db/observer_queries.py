"""Reading observer requests: those of a group by status, with who asked and for whom."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.db.models import Group, ObserverRequest, User


@dataclass(frozen=True)
class RequestView:
    id: int
    status: str
    family: str
    reason: str
    user_id: int
    name: str
    organization: str
    caucus_slug: str | None
    caucus_name: str | None
    created_at: str

    def wire(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "family": self.family,
            "reason": self.reason,
            "requested_by": {"id": self.user_id, "name": self.name},
            "caucus": (
                None
                if self.caucus_slug is None
                else {"slug": self.caucus_slug, "name": self.caucus_name}
            ),
            "created_at": self.created_at,
        }


async def list_observer_requests(
    session: AsyncSession, group_id: int, *, statuses: tuple[str, ...], limit: int = 200
) -> list[RequestView]:
    caucus = aliased(Group)
    rows = await session.execute(
        select(ObserverRequest, User, caucus)
        .join(User, User.id == ObserverRequest.user_id)
        .outerjoin(caucus, caucus.id == ObserverRequest.caucus_id)
        .where(ObserverRequest.group_id == group_id, ObserverRequest.status.in_(statuses))
        .order_by(ObserverRequest.id)
        .limit(limit)
    )
    return [
        RequestView(
            id=request.id,
            status=request.status,
            family=request.family,
            reason=request.reason,
            user_id=user.id,
            name=user.display_name,
            organization=user.organization or "",
            caucus_slug=group.slug if group is not None else None,
            caucus_name=group.name if group is not None else None,
            created_at=request.created_at.isoformat(),
        )
        # The outer join's caucus is None for a person's own request.
        for request, user, group in cast(
            "list[tuple[ObserverRequest, User, Group | None]]", rows.all()
        )
    ]
