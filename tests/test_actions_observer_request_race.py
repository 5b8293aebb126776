"""Two requests for the same observer seat that race: the competing one commits, by a
second real session, after this request checked for a pending one and before it
writes its own. The partial unique index refuses the second row, and the request is
refused as a pending one would be, with nothing written and nothing published."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from forum.actions.observer_requests import do_request_observer
from forum.broker.memory import MemoryBroker
from forum.db.base import utcnow
from forum.db.engine import create_engine, end_read, make_sessionmaker
from forum.db.models import ObserverRequest, Room, User
from forum.db.queries import get_group
from forum.errors import ErrorCode, ForumError
from tests import factory
from tests.capture import EventCapture
from tests.factory import GROUP


# PostgreSQL only: SQLite's BEGIN IMMEDIATE holds the write lock, so no second writer
# can race there.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_second_of_two_racing_requests_is_refused_as_pending(
    database_url: str, capture_events: EventCapture
) -> None:
    engine = create_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as setup, setup.begin():
            user = await factory.make_user(setup, family="civil_society")
            group = await get_group(setup, GROUP)
            assert group is not None
            user_id, group_id = user.id, group.id
            room_id = await setup.scalar(select(Room.id).where(Room.group_id == group_id))
            assert room_id is not None

        async def compete() -> None:
            async with sessions() as other, other.begin():
                other.add(
                    ObserverRequest(
                        group_id=group_id,
                        user_id=user_id,
                        caucus_id=None,
                        family="civil_society",
                        status="pending",
                        created_at=utcnow(),
                    )
                )

        raced: list[bool] = []

        def before_flush(flushing: Session, _context: Any, _instances: Any) -> None:
            if not raced and any(isinstance(row, ObserverRequest) for row in flushing.new):
                raced.append(True)
                await_only(compete())  # the competing request commits first

        broker = MemoryBroker()
        async with sessions() as session:
            event.listen(session.sync_session, "before_flush", before_flush)
            me = await session.get(User, user_id)
            assert me is not None
            await end_read(session)
            async with capture_events(broker, rooms=(room_id,), expected=0):
                with pytest.raises(ForumError) as refused:
                    await do_request_observer(session, broker, GROUP, user=me)
        assert raced == [True]
        assert refused.value.code is ErrorCode.OBSERVER_REQUEST_PENDING

        async with sessions() as check:
            rows = await pending_of(check, group_id)
        assert rows == [(user_id, "pending")]  # the competitor's, and only it
    finally:
        await engine.dispose()


async def pending_of(session: AsyncSession, group_id: int) -> list[tuple[int, str]]:
    found = await session.execute(
        select(ObserverRequest.user_id, ObserverRequest.status).where(
            ObserverRequest.group_id == group_id
        )
    )
    return [(user_id, status) for user_id, status in found]
