"""Changing what was written: edit a post (its versions kept as revisions), delete one,
lock or unlock a thread. The same shape as the writes in `posts`: validate, one
transaction taking the board's next `seq`, the domain rule on rows read fresh, then
the events after commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import publish
from forum.actions.posts import (
    actor_on_board,
    board_channel,
    locked_post,
    locked_thread,
    next_seq,
    post_location,
    publish_post,
    thread_channel,
    thread_line,
)
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.discussion_views import PostView, ThreadView
from forum.db.engine import write_transaction
from forum.db.models import ActionLine, Group, Post, PostRevision, User
from forum.domain.discussions import (
    check_delete_post,
    check_edit_post,
    check_lock_thread,
)
from forum.text import render_body
from forum.wire.streams import ThreadEvent


async def _author_and_group(session: AsyncSession, post: Post) -> tuple[User, Group | None]:
    author = await session.get_one(User, post.author_id)
    group = await session.get(Group, post.group_id) if post.group_id is not None else None
    return author, group


async def do_edit_post(
    session: AsyncSession, broker: Broker, *, user: User, post_id: int, body: str
) -> PostView:
    """Replace a post's text; the previous versions stay readable as revisions."""
    text = await render_body(body)
    async with write_transaction(session):
        thread_id, line_id = await post_location(session, post_id)
        seq = await next_seq(session, line_id)
        thread, thread_author = await locked_thread(session, thread_id)
        post = await locked_post(session, post_id)
        actor = await actor_on_board(session, user, line_id)
        check_edit_post(actor, author_id=post.author_id, deleted=post.deleted, locked=thread.locked)
        line = await session.get_one(ActionLine, line_id)
        author, group = await _author_and_group(session, post)
        parent_number = await _parent_number(session, post)
        changed = text.body != post.body
        if changed:
            now = utcnow()
            post.revision_count += 1
            session.add(
                PostRevision(
                    post_id=post.id,
                    number=post.revision_count,
                    body=text.body,
                    html=text.html,
                    editor_id=user.id,
                    created_at=now,
                )
            )
            post.body, post.html, post.plain = text.body, text.html, text.plain
            post.edited_at = now
            post.seq = thread.seq = seq
    view = PostView(post, author, group, parent_number)
    if changed:  # saving the same text again is not a revision
        await publish_post(broker, "edit", view, ThreadView(thread, line, thread_author))
    return view


async def _parent_number(session: AsyncSession, post: Post) -> int | None:
    if post.parent_id is None:
        return None
    return await session.scalar(select(Post.number).where(Post.id == post.parent_id))


async def do_delete_post(
    session: AsyncSession, broker: Broker, *, user: User, post_id: int
) -> PostView:
    """Leave a tombstone: the post keeps its place; its text is kept for the secretariat."""
    async with write_transaction(session):
        thread_id, line_id = await post_location(session, post_id)
        seq = await next_seq(session, line_id)
        thread, thread_author = await locked_thread(session, thread_id)
        post = await locked_post(session, post_id)
        actor = await actor_on_board(session, user, line_id)
        check_delete_post(
            actor, author_id=post.author_id, deleted=post.deleted, locked=thread.locked
        )
        post.deleted_at = utcnow()
        post.deleted_by = user.id
        post.seq = thread.seq = seq
        if post.number > 1:
            thread.reply_count -= 1
        if post.kind == "position":
            thread.position_count -= 1
        line = await session.get_one(ActionLine, line_id)
        author, group = await _author_and_group(session, post)
        parent_number = await _parent_number(session, post)
    view = PostView(post, author, group, parent_number)
    await publish_post(broker, "delete", view, ThreadView(thread, line, thread_author))
    return view


async def do_lock_thread(
    session: AsyncSession, broker: Broker, *, user: User, thread_id: int, locked: bool = True
) -> ThreadView:
    """Lock (or unlock) a thread: a moderator's decision, effective at once."""
    async with write_transaction(session):
        line = await thread_line(session, thread_id)
        line_id = line.id
        seq = await next_seq(session, line_id)
        thread, thread_author = await locked_thread(session, thread_id)
        check_lock_thread(await actor_on_board(session, user, line_id))
        if locked and thread.locked_at is None:
            thread.locked_at, thread.locked_by = utcnow(), user.id
        elif not locked:
            thread.locked_at, thread.locked_by = None, None
        thread.seq = seq
    view = ThreadView(thread, line, thread_author)
    message: ThreadEvent = {
        "type": "thread",
        "op": "lock" if locked else "unlock",
        "seq": seq,
        "thread": view.wire(),
    }
    await publish(broker, thread_channel(thread_id), message)
    await publish(broker, board_channel(line_id), message)
    return view
