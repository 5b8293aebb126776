"""The views of the discussions every reader gets: posts, threads and their authors,
groups and co-signatures, as plain rows (`PostRow`, `AuthorRow`, `GroupRow`) rather than
ORM entities — a thread page is hundreds of posts, and hydrating them into tracked
objects cost more than everything else the page does. The JSON API, the pages, the
feeds and the live events all use their `wire()` form; `discussions_queries` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from forum.db.models import ActionLine, Group, Post, Thread, User


@dataclass(frozen=True, slots=True)
class PostRow:
    """A post as readers see it, read as columns."""

    id: int
    thread_id: int
    number: int
    parent_id: int | None
    depth: int
    path: str
    author_id: int
    kind: str
    group_id: int | None
    title: str
    body: str
    html: str
    created_at: datetime
    edited_at: datetime | None
    revision_count: int
    deleted_at: datetime | None
    seq: int

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class AuthorRow:
    """What anyone may see of a person (`User.public`), read as columns."""

    id: int
    display_name: str
    family: str
    organization: str
    country: str
    region: str

    def public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "family": self.family,
            "organization": self.organization,
            "country": self.country,
            "region": self.region,
        }


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    slug: str
    name: str
    kind: str
    family: str


POST_COLUMNS = [
    Post.id,
    Post.thread_id,
    Post.number,
    Post.parent_id,
    Post.depth,
    Post.path,
    Post.author_id,
    Post.kind,
    Post.group_id,
    Post.title,
    Post.body,
    Post.html,
    Post.created_at,
    Post.edited_at,
    Post.revision_count,
    Post.deleted_at,
    Post.seq,
]
AUTHOR_COLUMNS = [
    User.id,
    User.display_name,
    User.family,
    User.organization,
    User.country,
    User.region,
]
GROUP_COLUMNS = [Group.id, Group.slug, Group.name, Group.kind, Group.family]
POSTS, AUTHORS, GROUPS = len(POST_COLUMNS), len(AUTHOR_COLUMNS), len(GROUP_COLUMNS)


def group_ref(group: Group | GroupRow | None) -> dict[str, Any] | None:
    if group is None:
        return None
    return {"slug": group.slug, "name": group.name, "kind": group.kind, "family": group.family}


@dataclass(frozen=True)
class CosignView:
    group: Group | GroupRow
    signed_by: int
    signed_at: datetime

    def wire(self) -> dict[str, Any]:
        return {
            "group": group_ref(self.group),
            "signed_by": self.signed_by,
            "signed_at": self.signed_at.isoformat(),
        }


@dataclass(slots=True)
class PostView:
    post: Post | PostRow
    author: User | AuthorRow
    group: Group | GroupRow | None = None
    parent_number: int | None = None
    cosigners: list[CosignView] = field(default_factory=list)
    # The secretariat keeps deleted content; everyone else sees a tombstone.
    show_deleted: bool = False

    @property
    def visible(self) -> bool:
        return not self.post.deleted or self.show_deleted

    @property
    def html(self) -> str:
        return self.post.html if self.visible else ""

    def wire(self) -> dict[str, Any]:
        post = self.post
        return {
            "id": post.id,
            "thread_id": post.thread_id,
            "number": post.number,
            "parent_id": post.parent_id,
            "parent_number": self.parent_number,
            "depth": post.depth,
            "path": post.path,
            "kind": post.kind,
            "author": self.author.public(),
            "group": group_ref(self.group),
            "title": post.title,
            "body": post.body if self.visible else None,
            "html": self.html if self.visible else None,
            "created_at": post.created_at.isoformat(),
            "edited_at": post.edited_at.isoformat() if post.edited_at else None,
            "revision_count": post.revision_count,
            "deleted": post.deleted,
            "deleted_at": post.deleted_at.isoformat() if post.deleted_at else None,
            "cosigners": [c.wire() for c in self.cosigners],
            "seq": post.seq,
        }


@dataclass
class ThreadView:
    thread: Thread
    line: ActionLine
    author: User | AuthorRow

    def wire(self) -> dict[str, Any]:
        thread = self.thread
        return {
            "id": thread.id,
            "action_line": self.line.code,
            "title": thread.title,
            "author": self.author.public(),
            "created_at": thread.created_at.isoformat(),
            "last_post_at": thread.last_post_at.isoformat(),
            "reply_count": thread.reply_count,
            "position_count": thread.position_count,
            "locked": thread.locked,
            "locked_at": thread.locked_at.isoformat() if thread.locked_at else None,
            "seq": thread.seq,
        }


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


# Boards and threads
