"""A person's private calendar address: made, replaced and revoked from their profile.

Calendar clients fetch a feed on their own, without the browser's cookie, so the
person's feed is found by a secret in its address rather than by a session. The row
holds a random key; the address adds the key's signature by the server's secret
(made and checked where addresses are written, in the web layer). Making a new key
replaces the old one, so an address that leaked stops working.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.base import utcnow
from forum.db.engine import write_transaction
from forum.db.models import CalendarKey, User


async def do_make_calendar_key(session: AsyncSession, *, user_id: int) -> str:
    """A new key for the person's calendar; any previous one stops working."""
    key = secrets.token_urlsafe(24)
    async with write_transaction(session):
        await session.execute(delete(CalendarKey).where(CalendarKey.user_id == user_id))
        session.add(CalendarKey(user_id=user_id, key=key, created_at=utcnow()))
    return key


async def do_revoke_calendar_key(session: AsyncSession, *, user_id: int) -> None:
    async with write_transaction(session):
        await session.execute(delete(CalendarKey).where(CalendarKey.user_id == user_id))


async def get_calendar_key(session: AsyncSession, user_id: int) -> str | None:
    key: str | None = await session.scalar(
        select(CalendarKey.key).where(CalendarKey.user_id == user_id)
    )
    return key


async def user_of_calendar_key(session: AsyncSession, key: str) -> User | None:
    """Whose calendar `key` opens: nobody's once revoked or the account closed."""
    user: User | None = await session.scalar(
        select(User)
        .join(CalendarKey, CalendarKey.user_id == User.id)
        .where(CalendarKey.key == key, User.is_active.is_(True))
    )
    return user
