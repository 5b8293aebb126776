"""Discussions: threads under an action line or theme, nested posts, positions,
their co-signatures and every revision of every post.

Each board (one per action line or theme) numbers its changes with `Board.last_seq`,
taken under the same write lock as the change. Threads and posts record the `seq` of
their last change, so "everything since seq N" is one indexed query: live readers
resume from it (server-sent events honour `Last-Event-ID`) and miss nothing.

A post's place in its thread's tree is its `path`: the zero-padded numbers of its
ancestors and its own. Ordering by it yields the tree depth-first in reply order, and
a page of a long thread is a range of it (keyset pagination, no offsets).

Rendered HTML is stored beside the Markdown source, and `plain` (the text of the
HTML) beside both: reading costs no rendering, search indexes what readers see.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.db.base import Base, utcnow

PATH_DIGITS = 8


def path_segment(number: int) -> str:
    return f"{number:0{PATH_DIGITS}d}"


class Board(Base):
    """The change counter of one action line's discussion (a row per action line)."""

    __tablename__ = "boards"

    action_line_id: Mapped[int] = mapped_column(
        ForeignKey("action_lines.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(default=0)


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_line_activity", "action_line_id", "last_post_at", "id"),
        Index("ix_threads_line_seq", "action_line_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_line_id: Mapped[int] = mapped_column(ForeignKey("action_lines.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Numbers handed out so far (the opening post is 1); deleted posts keep theirs.
    last_number: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)
    position_count: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    locked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    seq: Mapped[int] = mapped_column(default=0)

    @property
    def locked(self) -> bool:
        return self.locked_at is not None


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("thread_id", "path", name="uq_posts_thread_path"),
        Index("ix_posts_thread_seq", "thread_id", "seq"),
        Index("ix_posts_group_created", "group_id", "created_at"),
        Index("ix_posts_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    number: Mapped[int]
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), default=None
    )
    depth: Mapped[int] = mapped_column(default=0)
    path: Mapped[str] = mapped_column(String(160))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20), default="comment")
    # The group a position speaks for; None for comments.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL"), default=None
    )
    # The thread's title on its opening post, empty on replies: indexed for search.
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    plain: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    revision_count: Mapped[int] = mapped_column(default=1)
    # A deleted post stays in the tree as a tombstone; its text is kept for the
    # secretariat and hidden from everyone else.
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    seq: Mapped[int] = mapped_column(default=0)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


class PostRevision(Base):
    """Every version of a post, the first included: history is a plain list."""

    __tablename__ = "post_revisions"
    __table_args__ = (UniqueConstraint("post_id", "number", name="uq_post_revisions_post_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cosignature(Base):
    """A group's signature under another group's position."""

    __tablename__ = "cosignatures"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    signed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
