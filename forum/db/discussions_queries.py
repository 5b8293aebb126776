"""Reads of the discussions: boards, thread trees, positions, revisions, feeds, replay.

Every read loads what a page needs in a fixed number of queries, whatever the number
of posts: a thread page is the thread, one join for its posts with their authors,
groups and parents, and one for the co-signatures of the positions among them.
Lists are paginated by keyset (a cursor naming the last row seen), so page 1000 costs
what page 1 does and a post arriving meanwhile never shifts a page.

The views returned here (`PostView`, `ThreadView`) are what every reader gets: the
JSON API, the pages, the feeds and the live events all use their `wire()` form.

Posts are read as plain rows of the columns readers see (`PostRow`, `AuthorRow`,
`GroupRow`), not as ORM entities: a thread page is hundreds of posts, and hydrating
them into tracked objects cost more than everything else the page does. Writers
hand their ORM objects to the same views.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.db.cursors import decode_cursor, decode_time_and_id, encode_cursor
from forum.db.discussion_views import (
    AUTHOR_COLUMNS,
    AUTHORS,
    GROUP_COLUMNS,
    GROUPS,
    POST_COLUMNS,
    POSTS,
    AuthorRow,
    CosignView,
    GroupRow,
    Page,
    PostRow,
    PostView,
    ThreadView,
)
from forum.db.models import (
    ActionLine,
    Board,
    Cosignature,
    Group,
    GroupActionLine,
    Membership,
    Post,
    PostRevision,
    Thread,
    User,
)
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError

THREAD_PAGE = 200
THREAD_PAGE_MAX = 500
BOARD_PAGE = 30
BOARD_PAGE_MAX = 100
POSITIONS_MAX = 500
REPLAY_MAX = 500


async def get_board_line(session: AsyncSession, code: str) -> ActionLine:
    line = await session.scalar(select(ActionLine).where(ActionLine.code == code))
    if line is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such action line or theme."))
    return line


async def board_seq(session: AsyncSession, action_line_id: int) -> int:
    seq = await session.scalar(select(Board.last_seq).where(Board.action_line_id == action_line_id))
    return seq or 0


async def thread_line_and_seq(session: AsyncSession, thread_id: int) -> tuple[int, int]:
    """The thread's board (its action line) and the board's change counter: every
    write that changes what the thread's pages show takes the board's next `seq`, so
    renderings are keyed by it."""
    row = (
        await session.execute(
            select(Thread.action_line_id, Board.last_seq)
            .outerjoin(Board, Board.action_line_id == Thread.action_line_id)
            .where(Thread.id == thread_id)
        )
    ).first()
    if row is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such thread."))
    return row[0], row[1] or 0


async def thread_board_seq(session: AsyncSession, thread_id: int) -> int:
    """The change counter of the thread's board (see `thread_line_and_seq`)."""
    return (await thread_line_and_seq(session, thread_id))[1]


@functools.cache
def _threads() -> Select[Thread, ActionLine, User]:
    return (
        select(Thread, ActionLine, User)
        .join(ActionLine, ActionLine.id == Thread.action_line_id)
        .join(User, User.id == Thread.author_id)
    )


async def list_board(
    session: AsyncSession, line: ActionLine, *, cursor: str | None, limit: int = BOARD_PAGE
) -> Page[ThreadView]:
    """Threads by latest activity, newest first."""
    query = _threads().where(Thread.action_line_id == line.id)
    if cursor is not None:
        key = decode_time_and_id(cursor)
        query = query.where(tuple_(Thread.last_post_at, Thread.id) < key)
    rows = (
        await session.execute(
            query.order_by(Thread.last_post_at.desc(), Thread.id.desc()).limit(limit + 1)
        )
    ).all()
    views = [ThreadView(thread, line_, author) for thread, line_, author in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = views[-1].thread
        next_cursor = encode_cursor(last.last_post_at.isoformat(), str(last.id))
    return Page(views, next_cursor)


async def get_thread(session: AsyncSession, thread_id: int) -> ThreadView:
    row = (await session.execute(_threads().where(Thread.id == thread_id))).first()
    if row is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such thread."))
    thread, line, author = row
    return ThreadView(thread, line, author)


# Built once: composing a select of thirty columns costs more than running it.
@functools.cache
def _posts() -> Select[*tuple[Any, ...]]:
    parent = aliased(Post)
    return (
        select(*POST_COLUMNS, *AUTHOR_COLUMNS, *GROUP_COLUMNS, parent.number)
        .join(User, User.id == Post.author_id)
        .outerjoin(Group, Group.id == Post.group_id)
        .outerjoin(parent, parent.id == Post.parent_id)
    )


def _post_views(rows: Sequence[Any], *, show_deleted: bool) -> list[PostView]:
    """Views of rows of `_posts()`: the post's columns, its author's, its group's
    (all None for a comment) and its parent's number."""
    views = []
    authors: dict[int, AuthorRow] = {}
    groups: dict[int, GroupRow] = {}
    for row in rows:
        post = PostRow(*row[:POSTS])
        author = authors.get(post.author_id)
        if author is None:
            author = authors[post.author_id] = AuthorRow(*row[POSTS : POSTS + AUTHORS])
        group = None
        if post.group_id is not None:
            group = groups.get(post.group_id)
            if group is None:
                group = groups[post.group_id] = GroupRow(
                    *row[POSTS + AUTHORS : POSTS + AUTHORS + GROUPS]
                )
        views.append(PostView(post, author, group, row[-1], show_deleted=show_deleted))
    return views


async def _with_cosigners(session: AsyncSession, views: list[PostView]) -> list[PostView]:
    positions = {v.post.id: v for v in views if v.post.kind == "position"}
    if positions:
        signatures = await session.execute(
            select(
                Cosignature.post_id, Cosignature.signed_by, Cosignature.signed_at, *GROUP_COLUMNS
            )
            .join(Group, Group.id == Cosignature.group_id)
            .where(Cosignature.post_id.in_(positions))
            .order_by(Cosignature.signed_at, Group.name)
        )
        for post_id, signed_by, signed_at, *group in signatures:
            positions[post_id].cosigners.append(CosignView(GroupRow(*group), signed_by, signed_at))
    return views


async def list_thread_posts(
    session: AsyncSession,
    thread_id: int,
    *,
    cursor: str | None = None,
    start_path: str | None = None,
    limit: int = THREAD_PAGE,
    show_deleted: bool = False,
) -> Page[PostView]:
    """A page of the thread's tree, depth-first in reply order.

    `cursor` continues after the last post of the previous page; `start_path` starts
    the page at a given post (a permalink into a long thread).
    """
    query = _posts().where(Post.thread_id == thread_id)
    if cursor is not None:
        [after] = decode_cursor(cursor, 1)
        query = query.where(Post.path > after)
    elif start_path is not None:
        query = query.where(Post.path >= start_path)
    rows = (await session.execute(query.order_by(Post.path).limit(limit + 1))).all()
    views = await _with_cosigners(session, _post_views(rows[:limit], show_deleted=show_deleted))
    next_cursor = encode_cursor(views[-1].post.path) if len(rows) > limit else None
    return Page(views, next_cursor)


async def get_post(session: AsyncSession, post_id: int, *, show_deleted: bool = False) -> PostView:
    rows = (await session.execute(_posts().where(Post.id == post_id))).all()
    if not rows:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such post."))
    [view] = await _with_cosigners(session, _post_views(rows, show_deleted=show_deleted))
    return view


async def list_revisions(
    session: AsyncSession, post_id: int
) -> Sequence[tuple[PostRevision, User]]:
    rows = await session.execute(
        select(PostRevision, User)
        .join(User, User.id == PostRevision.editor_id)
        .where(PostRevision.post_id == post_id)
        .order_by(PostRevision.number)
    )
    return rows.all()


@dataclass
class PositionView:
    view: PostView
    thread: Thread


async def list_positions(session: AsyncSession, line: ActionLine) -> list[PositionView]:
    """Every standing position on an action line, by group, oldest first in each."""
    rows = (
        await session.execute(
            select(Post, User, Group, Thread)
            .join(Thread, Thread.id == Post.thread_id)
            .join(User, User.id == Post.author_id)
            .join(Group, Group.id == Post.group_id)
            .where(
                Thread.action_line_id == line.id,
                Post.kind == "position",
                Post.deleted_at.is_(None),
            )
            .order_by(Group.name, Post.created_at, Post.id)
            .limit(POSITIONS_MAX)
        )
    ).all()
    views = await _with_cosigners(
        session, [PostView(post, user, group) for post, user, group, _ in rows]
    )
    return [PositionView(view, thread) for view, (*_, thread) in zip(views, rows, strict=True)]


# Feeds


@dataclass
class FeedEntry:
    view: PostView
    thread: Thread
    line: ActionLine


async def _feed(session: AsyncSession, condition: Any, limit: int) -> list[FeedEntry]:
    rows = (
        await session.execute(
            select(Post, User, Group, Thread, ActionLine)
            .join(Thread, Thread.id == Post.thread_id)
            .join(ActionLine, ActionLine.id == Thread.action_line_id)
            .join(User, User.id == Post.author_id)
            .outerjoin(Group, Group.id == Post.group_id)
            .where(condition, Post.deleted_at.is_(None))
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(limit)
        )
    ).all()
    views = await _with_cosigners(
        session, [PostView(post, user, group) for post, user, group, *_ in rows]
    )
    return [
        FeedEntry(view, thread, line) for view, (*_, thread, line) in zip(views, rows, strict=True)
    ]


async def line_feed(session: AsyncSession, line: ActionLine, limit: int = 50) -> list[FeedEntry]:
    return await _feed(session, Thread.action_line_id == line.id, limit)


async def group_positions_feed(
    session: AsyncSession, group: Group, limit: int = 50
) -> list[FeedEntry]:
    return await _feed(session, and_(Post.group_id == group.id, Post.kind == "position"), limit)


# Live replay: what changed on a board or in a thread after a given seq.


async def thread_changes(
    session: AsyncSession, thread_id: int, after_seq: int, *, limit: int = REPLAY_MAX
) -> list[PostView]:
    rows = (
        await session.execute(
            _posts()
            .where(Post.thread_id == thread_id, Post.seq > after_seq)
            .order_by(Post.seq, Post.id)
            .limit(limit)
        )
    ).all()
    return await _with_cosigners(session, _post_views(rows, show_deleted=False))


async def board_changes(
    session: AsyncSession, line_id: int, after_seq: int, *, limit: int = REPLAY_MAX
) -> list[ThreadView]:
    rows = (
        await session.execute(
            _threads()
            .where(Thread.action_line_id == line_id, Thread.seq > after_seq)
            .order_by(Thread.seq)
            .limit(limit)
        )
    ).all()
    return [ThreadView(thread, line, author) for thread, line, author in rows]


# Who someone is on a board


async def board_roles(session: AsyncSession, line_id: int, user_id: int) -> set[Role]:
    """The person's roles in the groups that follow an action line."""
    roles = await session.scalars(
        select(Membership.role)
        .join(GroupActionLine, GroupActionLine.group_id == Membership.group_id)
        .where(GroupActionLine.action_line_id == line_id, Membership.user_id == user_id)
    )
    return {Role(role) for role in roles}


async def groups_spoken_for(session: AsyncSession, user_id: int) -> Sequence[Group]:
    """The groups a person may post positions for and co-sign with."""
    return (
        await session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(
                Membership.user_id == user_id,
                or_(Membership.role == Role.CHAIR, Membership.role == Role.COORDINATOR),
            )
            .order_by(Group.name)
        )
    ).all()
