"""A signed-out read of a thread asks the database nothing while the worker can trust
the board counter the broker told it, and asks again when it cannot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from forum.app import Forum
from forum.board_versions import BoardVersions
from forum.db.engine import create_engine, make_sessionmaker
from forum.limits import MemoryRateLimiter
from tests import factory
from tests.board_world import Board
from tests.capture import WINDOW_TICK, QueryCounter
from tests.discussions_support import open_thread, reply
from tests.people import signed_in
from tests.support import FakeClock, LiveServer, client, live_server, make_settings

TRUST_S = 2.0


def hand_clock(live: LiveServer) -> FakeClock:
    """The worker's board counters trusted against a clock the test moves: how long a
    loaded machine takes between two reads cannot spend the trust. Before any client
    connects (each HTTP connection keeps a copy of the state it began with)."""
    clock = FakeClock()
    versions = BoardVersions(live.state["broker"], trust_s=TRUST_S, clock=clock)
    live.state["board_versions"].close()
    live.state["board_versions"] = versions
    if isinstance(live.app, Forum) and live.app.shared_state is not None:
        live.app.shared_state["board_versions"] = versions
    return clock


@pytest.fixture
async def trusting(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> AsyncIterator[LiveServer]:
    settings = make_settings(sqlite_url, tmp_path).with_(board_trust_s=TRUST_S)
    async with live_server(settings, limiter=limiter) as live:
        yield live


async def test_a_signed_out_thread_read_asks_nothing_while_the_counter_is_trusted(
    trusting: LiveServer, count_queries: QueryCounter
) -> None:
    clock = hand_clock(trusting)
    engine = trusting.state["engine"]

    async def read(reader: httpx.AsyncClient, path: str) -> tuple[int, httpx.Response]:
        with count_queries(engine, ignore=("BEGIN", WINDOW_TICK)) as queries:
            response = await reader.get(path)
        assert response.status_code == 200, response.text
        return len(queries), response

    async with signed_in(trusting) as writer, client(trusting) as anonymous:
        thread_id = (await open_thread(writer))["thread"]["id"]
        for path in (f"/api/threads/{thread_id}", f"/threads/{thread_id}"):
            # The first reads teach the worker the thread's board and make it listen.
            await read(anonymous, path)
            await read(anonymous, path)
            asked, cached = await read(anonymous, path)
            assert asked == 0
            # A reply committed here is heard at once: the next read has it.
            await reply(writer, thread_id, f"Heard at once on {path}.")
            asked, fresh = await read(anonymous, path)
            assert f"Heard at once on {path}." in fresh.text
            assert fresh.content != cached.content

        # A change the broker never told (a lost publish, made here by hand): the page
        # stays as it was for at most the trust window, then the database is asked.
        path = f"/api/threads/{thread_id}"
        await read(anonymous, path)  # trusted from here
        async with trusting.state["sessionmaker"]() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE posts SET body = 'Changed quietly.', "
                    "html = '<p>Changed quietly.</p>' WHERE thread_id = :t"
                ),
                {"t": thread_id},
            )
            await session.execute(text("UPDATE boards SET last_seq = last_seq + 1"))
        asked, stale = await read(anonymous, path)
        assert asked == 0 and "Changed quietly." not in stale.text
        clock.advance(TRUST_S + 0.1)
        asked, after = await read(anonymous, path)
        assert asked > 0 and "Changed quietly." in after.text


async def test_a_signed_in_reader_asks_nothing_yet_sees_their_own_write_anywhere(
    sqlite_url: str, tmp_path: Path, count_queries: QueryCounter
) -> None:
    # Two workers whose brokers never reach each other: every publish is lost between
    # them, so each knows of the other's writes only from the database.
    settings = make_settings(sqlite_url, tmp_path).with_(board_trust_s=TRUST_S)
    async with live_server(settings) as here, live_server(settings) as there:
        clock = hand_clock(there)
        await _own_write_seen_anywhere(here, there, clock, count_queries)


async def _own_write_seen_anywhere(
    here: LiveServer, there: LiveServer, clock: FakeClock, count_queries: QueryCounter
) -> None:
    async with (
        client(here) as writer,
        signed_in(there) as other_reader,
    ):
        await writer.signup()
        thread_id = (await open_thread(writer))["thread"]["id"]
        path = f"/threads/{thread_id}"
        await asyncio.sleep(TRUST_S)  # the write's mark is spent
        async with client(there, cookies=writer.cookies) as reading_there:
            for _ in range(2):
                assert (await reading_there.get(path)).status_code == 200
            with count_queries(there.state["engine"], ignore=(WINDOW_TICK,)) as queries:
                kept = await reading_there.get(path)
            assert kept.status_code == 200 and len(queries) == 0
            await other_reader.get(path)

            await reply(writer, thread_id, "Seen by its writer at once.")
            reading_there.cookies.update(writer.cookies)
            mine = await reading_there.get(path)
            assert "Seen by its writer at once." in mine.text
            # Someone else there reads the board as the broker told it, for the
            # window at most.
            theirs = await other_reader.get(path)
            assert "Seen by its writer at once." not in theirs.text
            clock.advance(TRUST_S + 0.1)
            later = await other_reader.get(path)
            assert "Seen by its writer at once." in later.text


async def test_readers_who_come_while_the_counter_is_read_again_share_that_read(
    board: Board, database_url: str, count_queries: QueryCounter
) -> None:
    thread_id, _ = await factory.make_thread(board.session, board.broker, [board["author"]])
    now = [0.0]
    versions = BoardVersions(board.broker, trust_s=TRUST_S, clock=lambda: now[0])
    engine = create_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            first = await versions.thread_seq(session, thread_id)  # learns the board
        now[0] += TRUST_S + 1  # the trust is spent: the counter is read again
        sessions = [sessionmaker() for _ in range(8)]
        with count_queries(engine, ignore=("BEGIN",)) as queries:
            seqs = await asyncio.gather(*(versions.thread_seq(s, thread_id) for s in sessions))
        for session in sessions:
            await session.close()
        assert seqs == [first] * 8
        assert len(queries) == 1
        assert versions.known_seq(thread_id) == first
    finally:
        versions.close()
        await engine.dispose()
