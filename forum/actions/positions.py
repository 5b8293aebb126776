"""Positions: a group's official word in an action line's discussion, and the
signatures of the other groups that stand behind it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.posts import (
    actor_on_board,
    locked_post,
    locked_thread,
    next_seq,
    post_location,
    publish_post,
    role_for,
)
from forum.broker import Broker
from forum.db.discussions_queries import PostView, ThreadView, get_post
from forum.db.engine import write_transaction
from forum.db.models import ActionLine, Cosignature, Group, User
from forum.domain.discussions import PositionFacts, check_cosign


async def do_cosign(
    session: AsyncSession, broker: Broker, *, user: User, post_id: int, group: Group
) -> PostView:
    """`group` co-signs the position `post_id`, through its chair or coordinator."""
    async with write_transaction(session):
        thread_id, line_id = await post_location(session, post_id)
        seq = await next_seq(session, line_id)
        thread, thread_author = await locked_thread(session, thread_id)
        post = await locked_post(session, post_id)
        signed = await session.scalars(
            select(Cosignature.group_id).where(Cosignature.post_id == post.id)
        )
        check_cosign(
            await actor_on_board(session, user, line_id),
            PositionFacts(
                is_position=post.kind == "position",
                deleted=post.deleted,
                group_id=post.group_id,
                cosigned_by=frozenset(signed),
            ),
            group_id=group.id,
            role_in_group=await role_for(session, group, user),
        )
        session.add(Cosignature(post_id=post.id, group_id=group.id, signed_by=user.id))
        post.seq = thread.seq = seq
        line = await session.get_one(ActionLine, line_id)
    view = await get_post(session, post_id)
    await session.commit()
    await publish_post(broker, "cosign", view, ThreadView(thread, line, thread_author))
    return view
