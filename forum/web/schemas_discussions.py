"""Request and response shapes of the discussions API (they feed /openapi.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from forum.domain.vocabulary import Family
from forum.web.params import Id
from forum.web.schemas import PublicUser


class _Body(BaseModel):
    # No length cap here: `clean_body` answers an oversized body with 413, and the
    # request size limit bounds what is parsed at all.
    model_config = ConfigDict(extra="forbid")


class OpenThreadBody(_Body):
    title: str = Field(description="One line, at most 200 characters")
    body: str = Field(description="Markdown, at most 64 KiB")
    group: str | None = Field(
        default=None,
        max_length=80,
        description="Slug of the group this opening post is a position of (its chair or "
        "coordinator only); omit for a comment",
    )


class ReplyBody(_Body):
    body: str = Field(description="Markdown, at most 64 KiB")
    parent_id: Id | None = Field(
        default=None, description="The post of this thread replied to; omit to reply to the thread"
    )
    group: str | None = Field(
        default=None, max_length=80, description="Slug of the group this reply is a position of"
    )


class EditBody(_Body):
    body: str = Field(description="Markdown, at most 64 KiB")


class LockBody(_Body):
    locked: bool


class CosignBody(_Body):
    group: str = Field(max_length=80, description="Slug of the co-signing group")


class PreviewBody(_Body):
    body: str = Field(description="Markdown, at most 64 KiB, as a post's")


class PreviewOut(BaseModel):
    html: str = Field(description="The HTML the body would be stored and shown as")


class GroupBrief(BaseModel):
    slug: str
    name: str
    kind: str | None = None
    family: Family | None = None


class CosignOut(BaseModel):
    group: GroupBrief
    signed_by: int
    signed_at: str


class PostOut(BaseModel):
    id: int
    thread_id: int
    number: int = Field(description="Order of writing within the thread, from 1")
    parent_id: int | None
    parent_number: int | None
    depth: int
    path: str = Field(description="Sort key of the post in the thread's tree")
    kind: Literal["comment", "position"]
    author: PublicUser
    group: GroupBrief | None = Field(description="The group a position speaks for")
    title: str
    body: str | None = Field(description="Markdown source; null on a deleted post")
    html: str | None = Field(description="Rendered, safe HTML; null on a deleted post")
    created_at: str
    edited_at: str | None
    revision_count: int
    deleted: bool
    deleted_at: str | None
    cosigners: list[CosignOut]
    seq: int = Field(description="The board's change number of the post's last change")


class ThreadOut(BaseModel):
    id: int
    action_line: str
    title: str
    author: PublicUser
    created_at: str
    last_post_at: str
    reply_count: int
    position_count: int
    locked: bool
    locked_at: str | None
    seq: int


class BoardOut(BaseModel):
    action_line: str
    seq: int = Field(description="Pass as `after` to the board's event stream")
    threads: list[ThreadOut]
    next_cursor: str | None


class ThreadDetail(BaseModel):
    thread: ThreadOut
    seq: int = Field(description="Pass as `after` to the thread's event stream")
    posts: list[PostOut]
    next_cursor: str | None


class ThreadCreated(BaseModel):
    thread: ThreadOut
    post: PostOut


class RevisionOut(BaseModel):
    number: int
    body: str
    html: str
    editor: PublicUser
    created_at: str


class RevisionList(BaseModel):
    post_id: int
    revisions: list[RevisionOut]


class PositionOut(PostOut):
    thread_title: str


class GroupPositions(BaseModel):
    group: GroupBrief
    positions: list[PositionOut]


class PositionsOut(BaseModel):
    action_line: str
    groups: list[GroupPositions]


class SearchHitOut(BaseModel):
    post_id: int
    thread_id: int
    thread_title: str
    action_line: str
    number: int
    kind: Literal["comment", "position"]
    author: PublicUser
    group: GroupBrief | None
    created_at: str
    rank: float
    snippet_html: str = Field(description="Escaped text with hits in <mark>")


class SearchOut(BaseModel):
    query: str
    hits: list[SearchHitOut]
    next_offset: int | None
