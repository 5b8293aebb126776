"""What the discussions tests share: threads and replies over the API, and the rows a
refused write must leave as they were."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.models import ActionLine, Board, Cosignature, Post, PostRevision, Thread
from tests.support import Client, LiveServer


async def line_id(server: LiveServer, code: str) -> int:
    async with server.state["sessionmaker"]() as session:
        found = await session.scalar(select(ActionLine.id).where(ActionLine.code == code))
    assert found is not None
    return found


async def snapshot(server: LiveServer) -> dict[str, Any]:
    """Everything a refused write must leave as it was."""
    async with server.state["sessionmaker"]() as session:
        return await counts(session)


async def counts(session: AsyncSession) -> dict[str, Any]:
    """The discussions' rows, counted and summed up, as `snapshot` compares them."""
    found: dict[str, Any] = {}
    for model in (Thread, Post, PostRevision, Cosignature):
        found[model.__tablename__] = await session.scalar(select(func.count()).select_from(model))
    found["boards"] = sorted(
        (row.action_line_id, row.last_seq) for row in await session.scalars(select(Board))
    )
    found["posts_state"] = sorted(
        (p.id, p.body, p.deleted_at is not None, p.revision_count, p.seq)
        for p in await session.scalars(select(Post))
    )
    found["threads_state"] = sorted(
        (t.id, t.locked_at is not None, t.reply_count, t.seq)
        for t in await session.scalars(select(Thread))
    )
    return found


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
