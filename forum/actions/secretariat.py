"""Appointing the secretariat, which keeps the structure (groups, memberships, bureaus).

On a fresh install nobody can appoint anybody through the forum: the first secretariat
account is made from the shell (`python run.py create-secretariat EMAIL`), which calls
these actions. Later ones are appointed the same way or, once pages for it exist, by
the secretariat itself.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.accounts import Registration, do_register
from forum.db.engine import write_transaction
from forum.db.models import User
from forum.db.queries import get_user_by_email
from forum.errors import N_, ErrorCode, ForumError
from forum.passwords import Hasher


async def do_appoint_secretariat(session: AsyncSession, email: str) -> User:
    """Make an existing account a member of the secretariat (idempotent)."""
    async with write_transaction(session):
        user = await get_user_by_email(session, email)
        if user is None:
            raise ForumError(
                ErrorCode.NOT_FOUND,
                N_("No account has the email {email}."),
                field="email",
                params={"email": email},
            )
        if not user.is_active:
            raise ForumError(
                ErrorCode.CONFLICT, N_("This account is deactivated; it cannot be appointed.")
            )
        user.is_secretariat = True
    return user


async def do_create_secretariat(
    session: AsyncSession, registration: Registration, *, passwords: Hasher | None = None
) -> User:
    """A new account, appointed to the secretariat as it is made."""
    user = await do_register(session, registration, passwords=passwords)
    return await do_appoint_secretariat(session, user.email)
