"""Positions: a group's official word in an action line's discussion, and the
signatures of the other groups that stand behind it."""

from __future__ import annotations

from sqlalchemy import delete, select
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
from forum.db.discussion_views import PostView, ThreadView
from forum.db.discussions_queries import get_post
from forum.db.engine import write_transaction
from forum.db.models import ActionLine, Cosignature, Post, User
from forum.db.queries import require_group
from forum.domain.discussions import PositionFacts, check_cosign, check_withdraw_cosign


async def _position_facts(session: AsyncSession, post: Post) -> PositionFacts:
    signed = await session.scalars(
        select(Cosignature.group_id).where(Cosignature.post_id == post.id)
    )
    return PositionFacts(
        is_position=post.kind == "position",
        deleted=post.deleted,
        group_id=post.group_id,
        cosigned_by=frozenset(signed),
    )


async def do_cosign(
    session: AsyncSession, broker: Broker, *, user: User, post_id: int, group: str
) -> PostView:
    """The group of slug `group` co-signs the position `post_id`, through its chair or
    coordinator."""
    async with write_transaction(session):
        signer = await require_group(session, group, field="group")
        thread_id, line_id = await post_location(session, post_id)
        seq = await next_seq(session, line_id)
        thread, thread_author = await locked_thread(session, thread_id)
        post = await locked_post(session, post_id)
        check_cosign(
            await actor_on_board(session, user, line_id),
            await _position_facts(session, post),
            group_id=signer.id,
            role_in_group=await role_for(session, signer, user),
        )
        session.add(Cosignature(post_id=post.id, group_id=signer.id, signed_by=user.id))
        post.seq = thread.seq = seq
        line = await session.get_one(ActionLine, line_id)
    view = await get_post(session, post_id)
    await session.commit()
    await publish_post(broker, "cosign", view, ThreadView(thread, line, thread_author))
    return view


async def do_withdraw_cosignature(
    session: AsyncSession, broker: Broker, *, user: User, post_id: int, group: str
) -> PostView:
    """The group of slug `group` takes back its co-signature of the position `post_id`,
    through whoever is its chair or coordinator now. Readers of the thread see the
    signature go."""
    async with write_transaction(session):
        signer = await require_group(session, group, field="group")
        thread_id, line_id = await post_location(session, post_id)
        seq = await next_seq(session, line_id)
        thread, thread_author = await locked_thread(session, thread_id)
        post = await locked_post(session, post_id)
        check_withdraw_cosign(
            await actor_on_board(session, user, line_id),
            await _position_facts(session, post),
            group_id=signer.id,
            role_in_group=await role_for(session, signer, user),
        )
        await session.execute(
            delete(Cosignature).where(
                Cosignature.post_id == post.id, Cosignature.group_id == signer.id
            )
        )
        post.seq = thread.seq = seq
        line = await session.get_one(ActionLine, line_id)
        view = await get_post(session, post_id)
    await publish_post(broker, "uncosign", view, ThreadView(thread, line, thread_author))
    return view
