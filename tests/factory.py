"""The one way tests and benchmarks make what they act on: people (with a password the
suite knows, or none), their memberships, bearer tokens, room sessions and threads of
posts, written straight to the database.

Registration and sign-in have their own tests; everything else starts from here, so
that a test says what it needs (a chair of `wgig`, a civil-society member with a token)
and not how accounts are made. Nothing here imports pytest: `bench/` builds its load on
the same rows.
"""

from __future__ import annotations

import itertools
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from forum.actions import rooms
from forum.actions.accounts import Registration, check_register
from forum.actions.posts import do_open_thread, do_reply
from forum.actions.rooms import SessionDraft
from forum.auth import BEARER_PREFIX, new_token, token_hash
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.models import AuthSession, Membership, RoomSession, User
from forum.db.queries import get_group
from forum.domain.regions import region_of
from forum.domain.sessions import SessionFormat
from forum.limits import MemoryRateLimiter, PostThrottle

PASSWORD = "correct horse battery"
# argon2id at its cheapest where no real password is kept: the suite hashes thousands,
# and at the library's cost each takes tens of milliseconds of CPU. The tests of the
# cost itself, and of what it hides (sign-in timing), use `production_hashing`.
CHEAP_HASHING = {"password_time_cost": 1, "password_memory_cost": 8, "password_parallelism": 1}
NO_PASSWORD = "!"  # not an argon2 hash: no password signs in, tokens only
GROUP = "wgig"  # a governmental working group of the seed
# Unique across the processes of one run (pytest-xdist workers, benchmark clients)
# that may share a database.
_RUN = f"{os.getpid()}-{secrets.token_hex(3)}"
_people = itertools.count(1)


@cache
def password_hash(password: str = PASSWORD) -> str:
    """`password` hashed at the suite's cost: one hash serves every account."""
    time_cost, memory_cost, parallelism = CHEAP_HASHING.values()
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
    ).hash(password)


def registration(email: str, family: str = "civil_society") -> Registration:
    """A sign-up as the registration form's check passes it (`do_register` takes it)."""
    return check_register(
        email=email,
        password=PASSWORD,
        display_name="Someone",
        family=family,
        organization="Org",
        country="BR",
    )


async def make_user(
    session: AsyncSession,
    *,
    family: str = "government",
    country: str = "KE",
    name: str | None = None,
    email: str | None = None,
    organization: str = "Association for Progressive Communications",
    secretariat: bool = False,
    password: str | None = PASSWORD,
) -> User:
    """A person, flushed in the caller's transaction (they have an id). `password=None`
    leaves an account nobody signs in to with a password."""
    n = next(_people)
    user = User(
        email=email or f"person{n}-{_RUN}@example.org",
        password_hash=password_hash(password) if password is not None else NO_PASSWORD,
        display_name=name or f"Person {n}",
        family=family,
        organization=organization,
        country=country,
        region=region_of(country),
        is_secretariat=secretariat,
    )
    session.add(user)
    await session.flush()
    return user


async def add_role(session: AsyncSession, user_id: int, role: str, group: str = GROUP) -> None:
    """`role` in the group of slug `group`, in the caller's transaction."""
    found = await get_group(session, group)
    assert found is not None, f"the seed has no group {group!r}"
    session.add(Membership(group_id=found.id, user_id=user_id, role=role))
    await session.flush()


async def issue_token(
    session: AsyncSession, user_id: int, *, lifetime: timedelta = timedelta(hours=1)
) -> str:
    """A bearer token for `user_id`, as POST /api/auth/token gives one."""
    token = BEARER_PREFIX + new_token()
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            user_id=user_id,
            kind="bearer",
            expires_at=utcnow() + lifetime,
        )
    )
    await session.flush()
    return token


@dataclass
class Made:
    """A person the factory wrote, with their bearer token."""

    user: User
    token: str

    @property
    def account(self) -> dict[str, Any]:
        """The person as /api/me shows them (memberships aside)."""
        return {
            **self.user.public(),
            "email": self.user.email,
            "is_secretariat": self.user.is_secretariat,
        }


async def make_person(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    role: str | None = None,
    group: str = GROUP,
    lifetime: timedelta = timedelta(hours=1),
    **fields: Any,
) -> Made:
    """A person (`fields` as `make_user` takes them), `role` in `group`, and a bearer
    token, in one transaction of their own."""
    async with sessionmaker() as session, session.begin():
        user = await make_user(session, **fields)
        if role is not None:
            await add_role(session, user.id, role, group)
        token = await issue_token(session, user.id, lifetime=lifetime)
    return Made(user, token)


async def make_room_session(
    session: AsyncSession,
    broker: Broker,
    room_id: int,
    chair: User,
    *,
    fmt: SessionFormat = SessionFormat.STATEMENTS,
    title: str = "Sitting",
    agenda: str = "1. *Opening*",
    starts: datetime = datetime(2005, 11, 16, 9, tzinfo=UTC),
    hours: float = 3,
    open_it: bool = False,
) -> RoomSession:
    """A sitting scheduled by `chair` through the room's actions; opened if asked."""
    row = await rooms.do_schedule_session(
        session,
        broker,
        room_id,
        user=chair,
        draft=SessionDraft(title, agenda, starts, starts + timedelta(hours=hours), fmt),
    )
    if not open_it:
        return row
    return await rooms.do_open_session(session, broker, room_id, user=chair, session_id=row.id)


async def make_thread(
    session: AsyncSession,
    broker: Broker,
    authors: list[User],
    *,
    posts: int = 1,
    line: str = "C3",
    title: str = "Public access points",
    body: str = "Libraries.",
) -> tuple[int, list[int]]:
    """A thread opened by the first author with `posts` posts in all, through the
    discussion actions, the replies taken in turn by `authors`: a third answer the
    thread, the rest a recent post. The thread's id and its posts' ids, in order."""
    throttle = PostThrottle(MemoryRateLimiter(), posts + 1, 60)
    thread, first = await do_open_thread(
        session, broker, throttle, user=authors[0], line_code=line, title=title, body=body
    )
    ids = [first.post.id]
    for n in range(posts - 1):
        parent = None if n % 3 == 0 else ids[-1 - n % 5 if len(ids) > 5 else -1]
        _, view = await do_reply(
            session,
            broker,
            throttle,
            user=authors[n % len(authors)],
            thread_id=thread.thread.id,
            body=f"{body}\nReply {n}.",
            parent_id=parent,
        )
        ids.append(view.post.id)
    return thread.thread.id, ids
