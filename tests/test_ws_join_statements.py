"""What a join over `/ws` asks the database outside the transaction that seats it
(`forum/actions/join_reads.py`): thousands of listeners join a live room at once, and
each of these is made once per join. A join that comes back to reading through a
session (a BEGIN), that reads the person, the room or the seat on a trip of its own,
or whose batch makes each join read the room's presence again, fails here."""

from __future__ import annotations

import asyncio
import re
from contextlib import AsyncExitStack

from tests.capture import QueryCounter
from tests.people import person
from tests.rooms_support import peer
from tests.support import LiveServer

# The batches that seat people and let them go, and the server's clocks.
NOT_THE_JOINS = ("ws-arrivals", "ws-departures", "ws-heartbeat", "ws-watchdog", "ws-windows")


def first_lines(statements: list[str]) -> list[str]:
    """Each statement by what it reads: its tables and its condition, the parameters
    as SQLite writes them (PostgreSQL's `$1::INTEGER`: `?`)."""
    shown = [" ".join(s.split()).split(" FROM ", 1)[-1] for s in statements]
    return [re.sub(r"\$\d+(::\w+)?", "?", s) for s in shown]


HANDSHAKE = (
    "auth_sessions JOIN users ON users.id = auth_sessions.user_id"
    " WHERE auth_sessions.token_hash = ? AND auth_sessions.kind = ?"
)
PERSON = "users WHERE users.id = ?"
ROOM_BY_SLUG = "groups LEFT OUTER JOIN rooms ON rooms.group_id = groups.id WHERE groups.slug = ?"
ENTERED = (
    "rooms LEFT OUTER JOIN room_presence ON room_presence.id = ? AND room_presence.room_id"
    " = rooms.id LEFT OUTER JOIN room_sessions ON room_sessions.id = rooms.open_session_id"
    " WHERE rooms.id = ?"
)
PRESENCE_VERSION = "rooms WHERE rooms.id = ?"


async def test_a_signed_in_join_reads_in_two_trips_after_the_handshake(
    server: LiveServer, count_queries: QueryCounter
) -> None:
    member = await person(server, role="member")
    engine = server.state["engine"]
    async with peer(server, member) as first:
        # The first join reads the room's presence; those that do not change it find
        # it kept by the hub.
        assert (await first.join("remote"))["type"] == "joined"
        async with AsyncExitStack() as stack:
            with count_queries(engine, ignore_tasks=NOT_THE_JOINS) as queries:
                peers = [await stack.enter_async_context(peer(server, member)) for _ in range(5)]
                answers = await asyncio.gather(*(p.join("remote") for p in peers))
    assert [a["type"] for a in answers] == ["joined"] * 5
    reads = first_lines(queries.statements)
    assert sorted(reads) == sorted([HANDSHAKE, PERSON, ROOM_BY_SLUG, ENTERED] * 5), reads


async def test_joins_that_change_the_presence_read_it_once(
    server: LiveServer, count_queries: QueryCounter
) -> None:
    engine = server.state["engine"]
    async with peer(server) as first:
        assert (await first.join("spectator"))["type"] == "joined"
        async with AsyncExitStack() as stack:
            peers = [await stack.enter_async_context(peer(server)) for _ in range(6)]
            before = server.state["seating"].arrivals.batches
            with count_queries(engine, ignore_tasks=NOT_THE_JOINS) as queries:
                answers = await asyncio.gather(*(p.join("spectator") for p in peers))
    assert [a["type"] for a in answers] == ["joined"] * 6
    reads = first_lines(queries.statements)
    assert reads.count(ROOM_BY_SLUG) == reads.count(ENTERED) == 6, reads
    # Every batch changes the spectator count; the joins it seated read the presence
    # once (its version, who is there, the count, in a transaction), not once each.
    batches = server.state["seating"].arrivals.batches - before
    versions = [r for r in reads if r == PRESENCE_VERSION]
    assert 1 <= len(versions) <= batches < 6, reads
    # SQLite's BEGIN is a statement, PostgreSQL's is not: left out.
    others = [r for r in reads if r not in (ROOM_BY_SLUG, ENTERED, PRESENCE_VERSION, "BEGIN")]
    assert len(others) == 2 * len(versions), reads
