"""The reads and checks of a reply, as one block of statements (`forum.db.one_trip`),
and the post and thread they make: the parts of `posts.do_reply` that run on the
driver's thread or build rows, kept apart from the action's flow."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from forum.db.base import utcnow
from forum.db.discussion_views import GroupRow, PostRow
from forum.db.models import Post, Thread, User
from forum.db.models.discussions import path_segment
from forum.db.one_trip import Block, Statements
from forum.db.post_writes import (
    POST_FIELDS,
    ParentRead,
    ThreadRead,
    bump_board_of_thread,
    first_board_seq,
    read_board_roles,
    read_group,
    read_parent,
    read_role_in,
    read_thread,
    write_reply,
)
from forum.db.queries import group_not_found
from forum.domain.discussions import (
    MAX_DEPTH,
    board_actor,
    check_post_position,
    check_reply,
    reply_depth,
)
from forum.errors import N_, ErrorCode, ForumError
from forum.text import Rendered


def placement(number: int, parent: Post | ParentRead | None) -> tuple[int, str]:
    """(depth, path) of the post `number` answering `parent` (None: the thread)."""
    # Answering the opening post is answering the thread: such replies sit at the top
    # level, as the thread's direct replies do, and nest only under later posts.
    under = parent if parent is not None and parent.number > 1 else None
    if under is None:
        return reply_depth(None), path_segment(number)
    if under.depth < MAX_DEPTH:
        return reply_depth(under.depth), f"{under.path}.{path_segment(number)}"
    # At the deepest level a reply is shown beside what it answers.
    return reply_depth(under.depth), f"{under.path.rsplit('.', 1)[0]}.{path_segment(number)}"


@dataclass(frozen=True)
class ReplyRead:
    seq: int
    thread: ThreadRead
    group: GroupRow | None
    parent: ParentRead | None


@dataclass(frozen=True)
class ReplyAsk:
    """A reply's reads and checks, under the writer lock, on the driver's thread."""

    user_id: int
    is_secretariat: bool
    thread_id: int
    group: str | None
    parent_id: int | None

    def read(self, statements: Statements) -> ReplyRead | None:
        """Read and check, the board's `seq` taken through the thread; None when the
        board has no row yet."""
        group = self._group(statements)
        seq = bump_board_of_thread(statements, self.thread_id)
        return None if seq is None else self._checked(statements, seq, group)

    def read_with(self, seq: int) -> Block[ReplyRead]:
        """Read and check, the board's `seq` taken already (`next_seq`)."""
        return lambda statements: self._checked(statements, seq, self._group(statements))

    def _group(self, statements: Statements) -> GroupRow | None:
        # The refusals come in this order: the group, the thread, the caller's roles,
        # the post answered.
        group = read_group(statements, self.group) if self.group else None
        if self.group and group is None:
            raise group_not_found(self.group, field="group")
        return group

    def _checked(self, statements: Statements, seq: int, group: GroupRow | None) -> ReplyRead:
        thread = read_thread(statements, self.thread_id)
        line_id = thread.thread["action_line_id"]
        roles = read_board_roles(statements, line_id, self.user_id)
        actor = board_actor(self.user_id, is_secretariat=self.is_secretariat, roles=roles)
        locked = thread.thread["locked_at"] is not None
        if group is None:
            check_reply(actor, locked=locked)
        else:
            role = read_role_in(statements, group.id, self.user_id)
            check_post_position(actor, role_in_group=role, locked=locked)
        parent = None
        if self.parent_id is not None:
            parent = read_parent(statements, self.parent_id)
            if parent is None or parent.thread_id != self.thread_id:
                raise ForumError(
                    ErrorCode.VALIDATION,
                    N_("The post you reply to is not in this thread."),
                    field="parent_id",
                )
        return ReplyRead(seq, thread, group, parent)


def reply_row(reads: ReplyRead, author: User, text: Rendered, now: datetime) -> PostRow:
    """The new post as readers see it (its id once written), in its place in the tree."""
    number = reads.thread.thread["last_number"] + 1
    depth, path = placement(number, reads.parent)
    group = reads.group
    return PostRow(
        id=0,
        thread_id=reads.thread.thread["id"],
        number=number,
        parent_id=reads.parent.id if reads.parent is not None else None,
        depth=depth,
        path=path,
        author_id=author.id,
        kind="position" if group is not None else "comment",
        group_id=group.id if group is not None else None,
        title="",
        body=text.body,
        html=text.html,
        created_at=now,
        edited_at=None,
        revision_count=1,
        deleted_at=None,
        seq=reads.seq,
    )


ROW_FIELDS = frozenset(PostRow.__dataclass_fields__)


def post_columns(row: PostRow, text: Rendered) -> dict[str, Any]:
    """The new post's columns but its id, as `write_reply` takes them."""
    columns = {name: getattr(row, name) for name in POST_FIELDS if name in ROW_FIELDS}
    columns.update(plain=text.plain, deleted_by=None)
    return columns


@dataclass(frozen=True)
class ReplyWritten:
    """What a reply read, and the post it wrote (with its id)."""

    reads: ReplyRead
    row: PostRow
    now: datetime
    positions: int


def no_such_thread() -> ForumError:
    return ForumError(ErrorCode.NOT_FOUND, N_("No such thread."))


def written(reads: ReplyRead, row: PostRow, now: datetime, post_id: int) -> ReplyWritten:
    return ReplyWritten(reads, replace(row, id=post_id), now, 1 if reads.group else 0)


def reply_block(ask: ReplyAsk, author: User, text: Rendered) -> Block[ReplyWritten]:
    """A reply's reads, checks and writes as one block (on SQLite: for a group commit,
    `forum.db.grouped_blocks`; the rate limit is counted before, and given back on a
    refusal). The board's first change makes its row, as `posts.next_seq` does."""

    def block(statements: Statements) -> ReplyWritten:
        reads = ask.read(statements)
        if reads is None:
            seq = first_board_seq(statements, ask.thread_id)
            if seq is None:
                raise no_such_thread()
            reads = ask.read_with(seq)(statements)
        now = utcnow()
        row = reply_row(reads, author, text, now)
        positions = 1 if reads.group is not None else 0
        post_id = write_reply(statements, post_columns(row, text), now=now, positions=positions)
        return written(reads, row, now, post_id)

    return block


def thread_as_committed(session: AsyncSession, columns: dict[str, Any]) -> Thread:
    """The thread with what the reply wrote. The session may hold it already (it read
    it before): that object is brought up to date, as a flush would have, so that
    what the session reads next agrees with the database."""
    held = session.identity_map.get(identity_key(Thread, columns["id"]))
    if not isinstance(held, Thread):
        return Thread(**columns)
    for name, value in columns.items():
        set_committed_value(held, name, value)
    return held
