"""The discussions' storage reads straight on the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.posts import do_open_thread, do_reply
from forum.broker.memory import MemoryBroker
from forum.db.discussions_queries import thread_board_seq
from forum.db.models import Board
from forum.limits import MemoryRateLimiter, PostThrottle
from tests import factory


async def test_a_threads_board_counter_is_read_afresh_each_time(
    session: AsyncSession,
) -> None:
    async with session.begin():
        author = await factory.make_user(
            session, family="civil_society", name="Reader", organization="Org", password=None
        )
    broker, throttle = MemoryBroker(), PostThrottle(MemoryRateLimiter(), 10, 60)
    opened, _ = await do_open_thread(
        session, broker, throttle, user=author, line_code="C7", title="Counter", body="First."
    )
    thread_id = opened.thread.id

    first = await thread_board_seq(session, thread_id)
    # Twice in one transaction: a cached coroutine could be awaited only once (and kept
    # every session it was given).
    assert await thread_board_seq(session, thread_id) == first
    await session.rollback()  # the reads end before the next write begins
    await do_reply(session, broker, throttle, user=author, thread_id=thread_id, body="Second.")
    assert await thread_board_seq(session, thread_id) > first


async def test_a_reply_on_a_board_without_its_row_numbers_its_first_change(
    session: AsyncSession,
) -> None:
    """A thread whose board has no row yet (rows copied from elsewhere): the reply
    creates the row, as a board's first change does, and takes `seq` 1."""
    async with session.begin():
        author = await factory.make_user(
            session, family="civil_society", name="Writer", organization="Org", password=None
        )
    broker, throttle = MemoryBroker(), PostThrottle(MemoryRateLimiter(), 10, 60)
    opened, _ = await do_open_thread(
        session, broker, throttle, user=author, line_code="C7", title="Rows", body="First."
    )
    thread_id = opened.thread.id
    async with session.begin():
        await session.execute(delete(Board))
    _, view = await do_reply(session, broker, throttle, user=author, thread_id=thread_id, body="R")
    assert view.post.seq == 1 and view.post.number == 2
    assert await thread_board_seq(session, thread_id) == 1
