"""The signed-in session behind a token's hash, and its person, in one trip.

Every signed-in request starts here (`forum.auth.authenticate`), so it is one read
of `forum.db.one_trip` rather than an ORM query in a transaction: one trip to the
driver, and the person built from the row. The `User` comes back detached with every column loaded,
as it did from a session that was then closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.detached import columns_of, detached
from forum.db.models import AuthSession, User
from forum.db.one_trip import Statements, read_alone

_sessions = cast(Table, AuthSession.__table__)
_users = cast(Table, User.__table__)
_USER_FIELDS = columns_of(User)

_SIGNED_IN = (
    select(_sessions.c.id, _sessions.c.expires_at, *_users.columns)
    .join(_users, _users.c.id == _sessions.c.user_id)
    .where(_sessions.c.token_hash == bindparam("hash"), _sessions.c.kind == bindparam("kind"))
)
_USER = select(*_users.columns).where(_users.c.id == bindparam("user"))


async def signed_in(
    session: AsyncSession, token_hash: str, kind: str
) -> tuple[int, datetime, User] | None:
    """(the session's id, when it expires, its person), or None for no such session."""
    rows = await read_alone(session, _SIGNED_IN, {"hash": token_hash, "kind": kind})
    if not rows:
        return None
    session_id, expires_at, *columns = rows[0]
    return session_id, expires_at, detached(User, _USER_FIELDS, columns)


def user_by_id(statements: Statements, user_id: int) -> User | None:
    """The person, read in a block of `forum.db.one_trip` (None: gone)."""
    rows = statements.rows(_USER, {"user": user_id})
    return detached(User, _USER_FIELDS, rows[0]) if rows else None
