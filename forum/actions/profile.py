"""A person's own settings: the language and time zone of their pages."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.engine import write_transaction
from forum.db.models import User


async def do_set_locale(
    session: AsyncSession, user_id: int, *, language: str, time_zone: str | None
) -> None:
    """Keep `language` (one the interface offers) and, when the browser told it,
    `time_zone` (a known IANA name); the caller has checked both."""
    values: dict[str, str] = {"language": language}
    if time_zone is not None:
        values["time_zone"] = time_zone
    async with write_transaction(session):
        await session.execute(update(User).where(User.id == user_id).values(**values))
