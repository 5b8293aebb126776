"""What the discussions tests share: people in roles, threads, row counts, and a
recorder of what the broker published."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from forum.actions.posts import board_channel, thread_channel
from forum.auth import BEARER_PREFIX, token_hash
from forum.broker import Message
from forum.db.base import utcnow
from forum.db.models import (
    ActionLine,
    AuthSession,
    Board,
    Cosignature,
    Group,
    Membership,
    Post,
    PostRevision,
    Thread,
    User,
)
from forum.domain.regions import region_of
from tests.support import Client, LiveServer, client


async def set_role(server: LiveServer, slug: str, user_id: int, role: str) -> None:
    """Appoint someone in a group straight in the database (appointments have their
    own tests)."""
    async with server.state["sessionmaker"]() as session, session.begin():
        group = await session.scalar(select(Group).where(Group.slug == slug))
        assert group is not None, slug
        session.add(Membership(group_id=group.id, user_id=user_id, role=role))


async def line_id(server: LiveServer, code: str) -> int:
    async with server.state["sessionmaker"]() as session:
        found = await session.scalar(select(ActionLine.id).where(ActionLine.code == code))
    assert found is not None
    return found


async def snapshot(server: LiveServer) -> dict[str, Any]:
    """Everything a refused write must leave as it was."""
    async with server.state["sessionmaker"]() as session:
        counts: dict[str, Any] = {}
        for model in (Thread, Post, PostRevision, Cosignature):
            counts[model.__tablename__] = await session.scalar(
                select(func.count()).select_from(model)
            )
        counts["boards"] = sorted(
            (row.action_line_id, row.last_seq) for row in await session.scalars(select(Board))
        )
        counts["posts_state"] = sorted(
            (p.id, p.body, p.deleted_at is not None, p.revision_count, p.seq)
            for p in await session.scalars(select(Post))
        )
        counts["threads_state"] = sorted(
            (t.id, t.locked_at is not None, t.reply_count, t.seq)
            for t in await session.scalars(select(Thread))
        )
    return counts


class Recorder:
    """Collects what the broker publishes on some channels."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Message]] = []

    def __call__(self, channel: str, message: Message) -> None:
        self.messages.append((channel, message))


@asynccontextmanager
async def recording(
    server: LiveServer, *, threads: tuple[int, ...] = (), lines: tuple[int, ...] = ()
) -> AsyncIterator[Recorder]:
    broker = server.state["broker"]
    recorder = Recorder()
    channels = [thread_channel(t) for t in threads] + [board_channel(n) for n in lines]
    for channel in channels:
        await broker.subscribe(channel, recorder)
    try:
        yield recorder
    finally:
        for channel in channels:
            await broker.unsubscribe(channel, recorder)


_people = itertools.count(1)


@asynccontextmanager
async def person(
    server: LiveServer, *, family: str = "civil_society", country: str = "KE"
) -> AsyncIterator[Client]:
    """A signed-in API client, made straight in the database with a bearer token:
    registration and its password hashing have their own tests, and skipping them
    keeps these fast. `Client.user` is the person as the API shows them."""
    n = next(_people)
    token = f"{BEARER_PREFIX}{secrets.token_urlsafe(32)}"
    async with server.state["sessionmaker"]() as session, session.begin():
        user = User(
            email=f"discussant{n}-{secrets.token_hex(4)}@example.org",
            password_hash="-",  # nobody signs in with a password
            display_name=f"Discussant {n}",
            family=family,
            organization="Civil society organization",
            country=country,
            region=region_of(country),
        )
        session.add(user)
        await session.flush()
        session.add(
            AuthSession(
                token_hash=token_hash(token),
                user_id=user.id,
                kind="bearer",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    async with client(server, headers={"Authorization": f"Bearer {token}"}) as c:
        c.user = user.public()
        yield c


async def open_thread(
    http: Client, code: str = "C3", title: str = "Public access points", body: str = "Libraries."
) -> dict[str, Any]:
    response = await http.post(
        f"/api/action-lines/{code}/threads", json={"title": title, "body": body}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def reply(
    http: Client, thread_id: int, body: str, parent_id: int | None = None, **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": body, **extra}
    if parent_id is not None:
        payload["parent_id"] = parent_id
    response = await http.post(f"/api/threads/{thread_id}/posts", json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())
