"""What the discussion pages share: what the reader may do on a board, and where a
post is shown in its thread."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from forum.db.discussion_views import PostView
from forum.db.discussions_queries import (
    THREAD_PAGE,
    thread_board_seq,
)
from forum.db.models import Post
from forum.domain.discussions import board_actor
from forum.web.http import app_state, db, principal
from forum.web.write_hint import wrote_recently


def path_id(request: Request, name: str) -> int:
    """An id of the path, parsed and bounded by the route's `id` convertor."""
    value: int = request.path_params[name]
    return value


def known_seq(request: Request, thread_id: int, *, signed_in: bool) -> int | None:
    """The change counter of the thread's board without a query, or None: as this
    worker heard it from the broker, while it can trust that (forum/board_versions.py),
    and never to a signed-in reader who wrote in that window (`wrote_recently`), so that
    everyone sees their own write at once, whichever worker took it."""
    if signed_in and wrote_recently(request):
        return None
    return app_state(request)["board_versions"].known_seq(thread_id)


async def thread_seq(
    request: Request, session: AsyncSession, thread_id: int, *, signed_in: bool
) -> int:
    """The change counter of the thread's board, which keys its renderings: read from
    the database when `known_seq` cannot say."""
    if signed_in and wrote_recently(request):
        return await thread_board_seq(session, thread_id)
    return await app_state(request)["board_versions"].thread_seq(session, thread_id)


async def viewer(request: Request, line_id: int) -> dict[str, Any]:
    """What the signed-in reader may do on this board (nothing, when signed out)."""
    caller = await principal(request)
    if caller is None:
        return {"can_post": False, "moderates": False, "speaks_for": [], "me_id": None}
    user = caller.user
    state = app_state(request)
    facts = await state["session_cache"].board_facts(state["sessionmaker"], user.id, line_id)
    actor = board_actor(user.id, is_secretariat=user.is_secretariat, roles=facts.roles)
    return {
        "can_post": actor.signed_in,
        "moderates": actor.moderates,
        "speaks_for": list(facts.speaks_for),
        "me_id": user.id,
    }


async def post_url(request: Request, view: PostView) -> str:
    """Where a post is shown in its thread: the first page, or a page starting at it."""
    async with db(request) as session:
        before = await session.scalar(
            select(func.count())
            .select_from(Post)
            .where(Post.thread_id == view.post.thread_id, Post.path < view.post.path)
        )
    thread = f"/threads/{view.post.thread_id}"
    if (before or 0) < THREAD_PAGE:
        return f"{thread}#post-{view.post.id}"
    return f"{thread}?at={view.post.id}#post-{view.post.id}"
