"""Reads of recent activity in the discussions, for the front page and a group's page:
the latest positions with their co-signers counted, and each action line's and theme's
threads, posts and last post.

Each is one statement whatever the number of lines, threads or positions: the counts
come from the thread rows' own counters (kept by the post actions) and a correlated
count of co-signatures, never from a query per item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.models import ActionLine, Cosignature, Group, Post, Thread

LATEST_POSITIONS = 8


@dataclass(frozen=True, slots=True)
class PositionItem:
    post_id: int
    number: int
    title: str
    created_at: datetime
    thread_id: int
    thread_title: str
    line_code: str
    group_slug: str
    group_name: str
    cosigners: int


async def list_latest_positions(
    session: AsyncSession, *, group_id: int | None = None, limit: int = LATEST_POSITIONS
) -> list[PositionItem]:
    """Standing positions, newest first; those of one group when `group_id` is given."""
    cosigners = (
        select(func.count())
        .select_from(Cosignature)
        .where(Cosignature.post_id == Post.id)
        .scalar_subquery()
    )
    query = (
        select(
            Post.id,
            Post.number,
            Post.title,
            Post.created_at,
            Thread.id,
            Thread.title,
            ActionLine.code,
            Group.slug,
            Group.name,
            cosigners,
        )
        .join(Thread, Thread.id == Post.thread_id)
        .join(ActionLine, ActionLine.id == Thread.action_line_id)
        .join(Group, Group.id == Post.group_id)
        .where(Post.kind == "position", Post.deleted_at.is_(None))
    )
    if group_id is not None:
        query = query.where(Post.group_id == group_id)
    rows = await session.execute(
        query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit)
    )
    return [PositionItem(*row) for row in rows.all()]


@dataclass(frozen=True)
class LineActivity:
    line: ActionLine
    threads: int
    posts: int
    last_post_at: datetime | None


async def list_line_activity(session: AsyncSession) -> list[LineActivity]:
    """Every action line and theme in their order, with its threads, its posts (each
    thread's opening post and its replies) and the time of its last post."""
    stats = (
        select(
            Thread.action_line_id.label("line_id"),
            func.count().label("threads"),
            func.coalesce(func.sum(Thread.reply_count), 0).label("replies"),
            func.max(Thread.last_post_at).label("last_post_at"),
        )
        .group_by(Thread.action_line_id)
        .subquery()
    )
    rows = await session.execute(
        select(ActionLine, stats.c.threads, stats.c.replies, stats.c.last_post_at)
        .outerjoin(stats, stats.c.line_id == ActionLine.id)
        .order_by(ActionLine.position, ActionLine.code)
    )
    return [
        LineActivity(line, threads or 0, (threads or 0) + int(replies or 0), last)
        for line, threads, replies, last in rows.all()
    ]
