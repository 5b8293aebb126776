"""Writing in the discussions: open a thread, reply (edits, deletions and locks: `post_edits`).

Each action validates what it can without the database (body, title), renders the
Markdown off the event loop, then in one write transaction: takes the board's next
`seq` (which also serializes writers of the board), reads the rows it checks fresh,
applies the domain rule, counts the post against the rate limit, writes. Events go
out after the commit, on the thread's channel and the board's: a refusal writes
nothing and publishes nothing.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from forum.actions.outbox import publish
from forum.actions.reply_reads import (
    ReplyAsk,
    ReplyWritten,
    placement,
    post_columns,
    reply_block,
    reply_row,
    thread_as_committed,
    written,
)
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.discussion_views import PostView, ThreadView
from forum.db.discussions_queries import board_roles
from forum.db.engine import end_read, write_transaction
from forum.db.grouped_blocks import run_grouped
from forum.db.models import ActionLine, Board, Group, Post, PostRevision, Thread, User
from forum.db.one_trip import run_block
from forum.db.post_writes import write_reply
from forum.db.queries import require_group, role_in
from forum.domain.discussions import (
    Actor,
    board_actor,
    check_open_thread,
    check_post_position,
)
from forum.domain.textcheck import clean_line
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError
from forum.limits import PostThrottle
from forum.text import Rendered, render_body
from forum.wire.streams import PostEvent, PostOp, ThreadEvent, ThreadOp


def thread_channel(thread_id: int) -> str:
    return f"thread:{thread_id}"


BOARD_PREFIX = "board:"


def board_channel(action_line_id: int) -> str:
    return f"{BOARD_PREFIX}{action_line_id}"


def clean_title(title: str) -> str:
    return clean_line(title, field="title")


# Inside the write transaction


async def next_seq(session: AsyncSession, action_line_id: int) -> int:
    """The board's next change number; the row lock it takes serializes the board."""
    bump = (
        update(Board)
        .where(Board.action_line_id == action_line_id)
        .values(last_seq=Board.last_seq + 1)
        .returning(Board.last_seq)
    )
    seq = await session.scalar(bump)
    if seq is None:
        # The board's first change: create its row (another writer may race us to it).
        insert = (
            postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        await session.execute(
            insert(Board).values(action_line_id=action_line_id, last_seq=0).on_conflict_do_nothing()
        )
        # The row is there now: `scalar_one` says so, or fails loudly.
        seq = (await session.execute(bump)).scalar_one()
    return seq


async def actor_on_board(session: AsyncSession, user: User, action_line_id: int) -> Actor:
    roles = await board_roles(session, action_line_id, user.id)
    return board_actor(user.id, is_secretariat=user.is_secretariat, roles=roles)


async def locked_thread(session: AsyncSession, thread_id: int) -> tuple[Thread, User]:
    """The thread and its author, read fresh and locked for this transaction."""
    row = (
        await session.execute(
            select(Thread, User)
            .join(User, User.id == Thread.author_id)
            .where(Thread.id == thread_id)
            .with_for_update(of=Thread)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such thread."))
    return row[0], row[1]


async def thread_line(session: AsyncSession, thread_id: int) -> ActionLine:
    """The action line of a thread, found before its board's `seq` is taken."""
    # Every statement here runs under the writer lock, and a post's runs them all:
    # the line comes with the lookup rather than in a statement of its own.
    line = await session.scalar(
        select(ActionLine)
        .join(Thread, Thread.action_line_id == ActionLine.id)
        .where(Thread.id == thread_id)
    )
    if line is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such thread."))
    return line


async def post_location(session: AsyncSession, post_id: int) -> tuple[int, int]:
    """(thread id, action line id) of a post."""
    row = (
        await session.execute(
            select(Post.thread_id, Thread.action_line_id)
            .join(Thread, Thread.id == Post.thread_id)
            .where(Post.id == post_id)
        )
    ).first()
    if row is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such post."))
    return row[0], row[1]


async def locked_post(session: AsyncSession, post_id: int) -> Post:
    post = await session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if post is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such post."))
    return post


async def role_for(session: AsyncSession, group: Group, user: User) -> Role | None:
    return await role_in(session, group.id, user.id)


def _opening_post(
    session: AsyncSession,
    *,
    thread: Thread,
    author: User,
    text: Rendered,
    group: Group | None,
    title: str,
    seq: int,
) -> Post:
    """A new thread's first post (a reply's rows: `do_reply`)."""
    now = utcnow()
    thread.last_number = 1
    depth, path = placement(1, None)
    post = Post(
        thread_id=thread.id,
        number=1,
        parent_id=None,
        depth=depth,
        path=path,
        author_id=author.id,
        kind="position" if group is not None else "comment",
        group_id=group.id if group is not None else None,
        title=title,
        body=text.body,
        html=text.html,
        plain=text.plain,
        created_at=now,
        revision_count=1,
        seq=seq,
    )
    session.add(post)
    thread.last_post_at = now
    thread.seq = seq
    if group is not None:
        thread.position_count += 1
    return post


async def _add_first_revision(session: AsyncSession, post: Post) -> None:
    await session.flush()
    session.add(
        PostRevision(
            post_id=post.id,
            number=1,
            body=post.body,
            html=post.html,
            editor_id=post.author_id,
            created_at=post.created_at,
        )
    )


async def publish_post(
    broker: Broker,
    op: PostOp,
    view: PostView,
    thread: ThreadView,
    *,
    board_op: ThreadOp = "update",
) -> None:
    """After commit, through the one guarded `publish`: a failure is logged, and readers
    resume from the board's counter (`Last-Event-ID`)."""
    seq = view.post.seq
    post: PostEvent = {
        "type": "post",
        "op": op,
        "seq": seq,
        "thread": thread.thread.id,
        "post": view.wire(),
    }
    await publish(broker, thread_channel(thread.thread.id), post)
    board: ThreadEvent = {"type": "thread", "op": board_op, "seq": seq, "thread": thread.wire()}
    await publish(broker, board_channel(thread.line.id), board)


async def _speaking_for(session: AsyncSession, slug: str | None) -> Group | None:
    """The group a post is a position of (None: a comment), read in the transaction that
    checks its role: a refusal names the `group` field."""
    return await require_group(session, slug, field="group") if slug else None


async def do_open_thread(
    session: AsyncSession,
    broker: Broker,
    throttle: PostThrottle,
    *,
    user: User,
    line_code: str,
    title: str,
    body: str,
    group: str | None = None,
) -> tuple[ThreadView, PostView]:
    """Open a thread under an action line or theme; its opening post is a comment, or
    with `group` (a slug) a position of that group (its chair or coordinator posts it)."""
    clean = clean_title(title)
    text = await render_body(body)
    async with write_transaction(session):
        speaking_for = await _speaking_for(session, group)
        line = await session.scalar(select(ActionLine).where(ActionLine.code == line_code))
        if line is None:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such action line or theme."))
        seq = await next_seq(session, line.id)
        actor = await actor_on_board(session, user, line.id)
        if speaking_for is None:
            check_open_thread(actor)
        else:
            role = await role_for(session, speaking_for, user)
            check_post_position(actor, role_in_group=role, locked=False)
        await throttle.count(user.id)
        thread = Thread(
            action_line_id=line.id,
            title=clean,
            author_id=user.id,
            last_number=0,
            reply_count=0,
            position_count=0,
        )
        session.add(thread)
        await session.flush()
        post = _opening_post(
            session,
            thread=thread,
            author=user,
            text=text,
            group=speaking_for,
            title=clean,
            seq=seq,
        )
        await _add_first_revision(session, post)
    thread_view = ThreadView(thread, line, user)
    view = PostView(post, user, speaking_for)
    await publish_post(broker, "new", view, thread_view, board_op="new")
    return thread_view, view


async def do_reply(
    session: AsyncSession,
    broker: Broker,
    throttle: PostThrottle,
    *,
    user: User,
    thread_id: int,
    body: str,
    parent_id: int | None = None,
    group: str | None = None,
) -> tuple[ThreadView, PostView]:
    """Reply to the thread (no parent) or to one of its posts; with `group` (a slug),
    the reply is a position of that group.

    Its reads, checks and writes are blocks of statements (`forum.db.one_trip`,
    `forum.db.post_writes`). On SQLite they are one block, committed with the replies
    of other writers that came meanwhile (`forum.db.grouped_blocks`), the rate limit
    counted before and given back if the reply is refused; elsewhere, reads and writes
    are two blocks of the reply's own transaction, the rate limit counted between."""
    text = await render_body(body)
    bind = session.bind
    if session.in_transaction():
        raise RuntimeError("write_transaction must be the outermost transaction")
    if inspect(user).expired_attributes:
        # A rollback of this session expired the caller: the blocks below run off
        # the session, so it is read again here, where a lazy load would have.
        await session.refresh(user)
        await end_read(session)
    ask = ReplyAsk(user.id, user.is_secretariat, thread_id, group, parent_id)
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite":
        await throttle.count(user.id)
        try:
            done = await run_grouped(
                bind,
                reply_block(ask, user, text),
                abandoned=lambda done: _publish_later(broker, *_reply_views(None, done, user)),
            )
        except ForumError:
            await throttle.give_back(user.id)
            raise
    else:
        done = await _reply_in_transaction(session, throttle, ask, user, text)
    thread_view, view = _reply_views(session, done, user)
    await publish_post(broker, "new", view, thread_view)
    return thread_view, view


async def _reply_in_transaction(
    session: AsyncSession, throttle: PostThrottle, ask: ReplyAsk, user: User, text: Rendered
) -> ReplyWritten:
    async with write_transaction(session):
        reads = await run_block(session, ask.read)
        if reads is None:
            # The board has never changed (or the thread is unknown: refused here).
            line = await thread_line(session, ask.thread_id)
            reads = await run_block(session, ask.read_with(await next_seq(session, line.id)))
        await throttle.count(user.id)
        now = utcnow()
        row = reply_row(reads, user, text, now)
        columns = post_columns(row, text)
        positions = 1 if reads.group is not None else 0
        post_id = await run_block(
            session,
            lambda statements: write_reply(statements, columns, now=now, positions=positions),
        )
    return written(reads, row, now, post_id)


def _reply_views(
    session: AsyncSession | None, done: ReplyWritten, user: User
) -> tuple[ThreadView, PostView]:
    """The thread and the post as committed, as readers see them."""
    reads, row = done.reads, done.row
    thread = reads.thread
    committed = {
        **thread.thread,
        "last_number": row.number,
        "last_post_at": done.now,
        "seq": row.seq,
        "reply_count": thread.thread["reply_count"] + 1,
        "position_count": thread.thread["position_count"] + done.positions,
    }
    held = Thread(**committed) if session is None else thread_as_committed(session, committed)
    thread_view = ThreadView(held, ActionLine(**thread.line), thread.author)
    parent_number = reads.parent.number if reads.parent is not None else None
    return thread_view, PostView(row, user, reads.group, parent_number)


_later: set[asyncio.Task[None]] = set()


def _publish_later(broker: Broker, thread_view: ThreadView, view: PostView) -> None:
    """The events of a reply committed after its writer was cancelled: still owed."""
    task = asyncio.get_running_loop().create_task(publish_post(broker, "new", view, thread_view))
    _later.add(task)
    task.add_done_callback(_later.discard)
