"""The reads of a join (`forum.actions.join_reads`), at the action: a person gone since
the handshake is refused as signed out, a group without a room is not found, and a room
that is not there is entered as nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.join_reads import entered, joining
from forum.db.engine import end_read
from forum.db.models import Group, Room
from forum.errors import ErrorCode, ForumError

GROUP = "wgig"


async def test_a_person_gone_since_the_handshake_is_refused_as_signed_out(
    session: AsyncSession,
) -> None:
    with pytest.raises(ForumError) as caught:
        await joining(session, GROUP, 10**6)
    assert caught.value.code is ErrorCode.UNAUTHENTICATED


async def test_a_group_without_a_room_is_not_found(session: AsyncSession) -> None:
    group_id = await session.scalar(select(Group.id).where(Group.slug == GROUP))
    assert group_id is not None
    await end_read(session)
    async with session.begin():
        await session.execute(delete(Room).where(Room.group_id == group_id))
    with pytest.raises(ForumError) as caught:
        await joining(session, GROUP, None)
    assert caught.value.code is ErrorCode.NOT_FOUND
    assert caught.value.message == "This group has no room."


async def test_a_room_that_is_not_there_is_entered_as_nothing(session: AsyncSession) -> None:
    assert await entered(session, 10**6, "no-such-connection") is None
