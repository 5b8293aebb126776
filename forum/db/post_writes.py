"""What a reply reads and writes under the writer lock, as Core statements built once.

A reply's reads (the board's next `seq`, the thread and its line, the caller's roles,
the group it speaks for, the post it answers) and its writes (the post, its first
revision, the thread's counters) run as two blocks of `forum.db.one_trip`: a trip to
the driver each, rather than several per statement, and no unit of work. The rows are
the ones the ORM wrote; the search entry follows from the post as before (SQLite's FTS
triggers, PostgreSQL's generated column). The functions here only read and write; the
action (`forum.actions.posts`) decides between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from forum.db.discussion_views import AUTHOR_COLUMNS, AuthorRow, GroupRow
from forum.db.models import (
    ActionLine,
    Board,
    Group,
    GroupActionLine,
    Membership,
    Post,
    PostRevision,
    Thread,
    User,
)
from forum.db.one_trip import Statements
from forum.domain.vocabulary import Role


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


_boards, _threads, _posts = _table(Board), _table(Thread), _table(Post)
_lines, _revisions, _groups = _table(ActionLine), _table(PostRevision), _table(Group)
_members, _followed = _table(Membership), _table(GroupActionLine)
_users = _table(User)

THREAD_FIELDS = tuple(column.key for column in _threads.columns)
LINE_FIELDS = tuple(column.key for column in _lines.columns)
_AUTHOR_FIELDS = tuple(column.key for column in AUTHOR_COLUMNS)
_GROUP_FIELDS = ("id", "slug", "name", "kind", "family")
POST_FIELDS = tuple(column.key for column in _posts.columns if column.key != "id")

# The board's next change number, found from the thread: one statement for what was
# the thread's line lookup and the board's bump. No row: the thread is unknown, or its
# board has never changed (`next_seq` creates the row).
_BUMP_BY_THREAD = (
    update(_boards)
    .where(
        _boards.c.action_line_id
        == select(_threads.c.action_line_id)
        .where(_threads.c.id == bindparam("thread_id"))
        .scalar_subquery()
    )
    .values(last_seq=_boards.c.last_seq + 1)
    .returning(_boards.c.last_seq)
)
# The board's first change, on SQLite (PostgreSQL: `posts.next_seq`): its row made, then
# bumped as any other time. Another writer may have made it first.
_LINE_OF_THREAD = select(_threads.c.action_line_id).where(_threads.c.id == bindparam("thread_id"))
_NEW_BOARD = (
    sqlite_insert(_boards)
    .values(action_line_id=bindparam("line"), last_seq=0)
    .on_conflict_do_nothing()
)
_BUMP = (
    update(_boards)
    .where(_boards.c.action_line_id == bindparam("line"))
    .values(last_seq=_boards.c.last_seq + 1)
    .returning(_boards.c.last_seq)
)
# Read after the bump, as `locked_thread` reads it: fresh and, on PostgreSQL, locked.
_THREAD = (
    select(
        *_threads.columns,
        *(_users.c[key] for key in _AUTHOR_FIELDS),
        *_lines.columns,
    )
    .join(_users, _users.c.id == _threads.c.author_id)
    .join(_lines, _lines.c.id == _threads.c.action_line_id)
    .where(_threads.c.id == bindparam("thread_id"))
    .with_for_update(of=_threads)
)
_BOARD_ROLES = (
    select(_members.c.role)
    .join(_followed, _followed.c.group_id == _members.c.group_id)
    .where(_followed.c.action_line_id == bindparam("line"), _members.c.user_id == bindparam("user"))
)
_GROUP = select(*(_groups.c[key] for key in _GROUP_FIELDS)).where(
    _groups.c.slug == bindparam("slug")
)
_ROLE_IN_GROUP = select(_members.c.role).where(
    _members.c.group_id == bindparam("group"), _members.c.user_id == bindparam("user")
)
_PARENT = select(
    _posts.c.id, _posts.c.thread_id, _posts.c.number, _posts.c.depth, _posts.c.path
).where(_posts.c.id == bindparam("post"))

_INSERT_POST = (
    insert(_posts).values({key: bindparam(key) for key in POST_FIELDS}).returning(_posts.c.id)
)
_INSERT_REVISION = insert(_revisions).values(
    {
        key: bindparam(key)
        for key in ("post_id", "number", "body", "html", "editor_id", "created_at")
    }
)
_ADVANCE_THREAD = (
    update(_threads)
    .where(_threads.c.id == bindparam("thread"))
    .values(
        last_number=bindparam("number"),
        last_post_at=bindparam("now"),
        seq=bindparam("new_seq"),
        reply_count=_threads.c.reply_count + 1,
        position_count=_threads.c.position_count + bindparam("positions"),
    )
)


@dataclass(frozen=True)
class ThreadRead:
    """The thread (its columns by name), its author and its action line."""

    thread: dict[str, Any]
    author: AuthorRow
    line: dict[str, Any]


@dataclass(frozen=True)
class ParentRead:
    id: int
    thread_id: int
    number: int
    depth: int
    path: str


def bump_board_of_thread(statements: Statements, thread_id: int) -> int | None:
    """The board's next `seq`, or None (see above)."""
    rows = statements.rows(_BUMP_BY_THREAD, {"thread_id": thread_id})
    return int(rows[0][0]) if rows else None


def first_board_seq(statements: Statements, thread_id: int) -> int | None:
    """On SQLite, the first `seq` of the board of a thread whose board has no row yet;
    None when the thread is unknown."""
    lines = statements.rows(_LINE_OF_THREAD, {"thread_id": thread_id})
    if not lines:
        return None
    line = lines[0][0]
    statements.rows(_NEW_BOARD, {"line": line})
    (row,) = statements.rows(_BUMP, {"line": line})
    return int(row[0])


def read_thread(statements: Statements, thread_id: int) -> ThreadRead:
    """The thread of a board whose `seq` was just taken through it: it exists."""
    (row,) = statements.rows(_THREAD, {"thread_id": thread_id})
    threads, authors = len(THREAD_FIELDS), len(_AUTHOR_FIELDS)
    return ThreadRead(
        dict(zip(THREAD_FIELDS, row[:threads], strict=True)),
        AuthorRow(*row[threads : threads + authors]),
        dict(zip(LINE_FIELDS, row[threads + authors :], strict=True)),
    )


def read_board_roles(statements: Statements, line_id: int, user_id: int) -> set[Role]:
    """As `discussions_queries.board_roles`."""
    rows = statements.rows(_BOARD_ROLES, {"line": line_id, "user": user_id})
    return {Role(row[0]) for row in rows}


def read_group(statements: Statements, slug: str) -> GroupRow | None:
    rows = statements.rows(_GROUP, {"slug": slug})
    return GroupRow(*rows[0]) if rows else None


def read_role_in(statements: Statements, group_id: int, user_id: int) -> Role | None:
    """As `queries.role_in`."""
    rows = statements.rows(_ROLE_IN_GROUP, {"group": group_id, "user": user_id})
    return Role(rows[0][0]) if rows else None


def read_parent(statements: Statements, post_id: int) -> ParentRead | None:
    rows = statements.rows(_PARENT, {"post": post_id})
    return ParentRead(*rows[0]) if rows else None


def write_reply(
    statements: Statements, columns: dict[str, Any], *, now: datetime, positions: int
) -> int:
    """The post (`columns`: every column but its id), its first revision and the
    thread's counters; the post's id."""
    (row,) = statements.rows(_INSERT_POST, columns)
    post_id = int(row[0])
    revision = {
        "post_id": post_id,
        "number": 1,
        "body": columns["body"],
        "html": columns["html"],
        "editor_id": columns["author_id"],
        "created_at": now,
    }
    statements.rows(_INSERT_REVISION, revision)
    statements.rows(
        _ADVANCE_THREAD,
        {
            "thread": columns["thread_id"],
            "number": columns["number"],
            "now": now,
            "new_seq": columns["seq"],
            "positions": positions,
        },
    )
    return post_id
