"""Every frame gets an answer that names it: a database that fails during a frame is an
`unavailable` error frame and the connection stays; a rate-limited frame echoes its
`ref`; only strings and integers are refs. Real server, real clients, real faults."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from forum.actions.room_reads import room_for
from forum.db.engine import create_engine
from forum.settings import Settings
from tests.capture import EventCapture
from tests.factory import GROUP
from tests.people import person
from tests.room_checks import room_snapshot
from tests.rooms_support import peer, schedule_and_open
from tests.support import LiveServer, make_settings

BUSY_TIMEOUT = 0.3
Strike = Callable[[], Awaitable[None]]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path).with_(db_busy_timeout=BUSY_TIMEOUT)


@asynccontextmanager
async def writes_fail(database_url: str, room_id: int) -> AsyncIterator[Strike]:
    """The next write to the room fails in the database, for real.

    SQLite: another process's connection holds the write lock past the busy timeout.
    PostgreSQL: another session holds the room's row; the server's session that waits
    for it is terminated (`pg_terminate_backend`), as a failover or an operator would.
    Call the yielded `strike` once the write is on its way."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")

        async def nothing_more() -> None:
            return None

        try:
            yield nothing_more
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database_url)
    try:
        async with engine.connect() as pg:
            await pg.execute(
                text("SELECT id FROM rooms WHERE id = :id FOR UPDATE"), {"id": room_id}
            )
            mine = await pg.scalar(text("SELECT pg_backend_pid()"))

            async def terminate_the_waiter() -> None:
                for _ in range(200):
                    waiting = await pg.scalar(
                        text(
                            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                            " AND wait_event_type = 'Lock' AND pid <> :mine"
                        ),
                        {"mine": mine},
                    )
                    if waiting is not None:
                        await pg.execute(
                            text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting}
                        )
                        return
                    await asyncio.sleep(0.02)
                raise AssertionError("the server's write never waited for the lock")

            yield terminate_the_waiter
            await pg.rollback()
    finally:
        await engine.dispose()


async def room_id(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        _group, room = await room_for(session, GROUP)
    return room.id


async def test_a_database_failure_during_a_frame_is_answered_and_the_connection_stays(
    server: LiveServer, database_url: str, capture_events: EventCapture
) -> None:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    await schedule_and_open(chair)
    room = await room_id(server)
    async with peer(server, member) as m:
        start = (await m.join("remote"))["seq"]
        before = await room_snapshot(server)
        async with (
            capture_events(server, rooms=(room,), expected=0),
            writes_fail(database_url, room) as strike,
        ):
            ref = await m.send({"type": "raise_hand"})
            await strike()
            answer = await m.expect("error", wait=10)
        assert answer == {
            "type": "error",
            "code": "unavailable",
            "message": "The database is unavailable; try again shortly.",
            "ref": ref,
        }
        assert await room_snapshot(server) == before
        # The same connection goes on once the database is back.
        assert m.ws.close_code is None
        assert (await m.call({"type": "ping"}))["type"] == "pong"
        again = await m.call({"type": "raise_hand"})
        assert (again["type"], again["seq"]) == ("ack", start + 1)


async def test_a_rate_limited_frame_echoes_its_ref(sqlite_server: LiveServer) -> None:
    async with peer(sqlite_server) as p:
        for n in range(sqlite_server.state["settings"].ws_frames_per_window):
            assert (await p.call({"type": "ping"}))["ref"] == f"r{n + 1}"
        for frame in ({"type": "ping"}, {"type": "raise_hand"}):
            limited = await p.call(frame)
            assert limited["code"] == "rate_limited" and limited["ref"] == p.seen[-1]["ref"]
        # Also a frame that is not even valid is counted, and answered with its ref.
        await p.ws.send(json.dumps({"type": "shout", "ref": 7}))
        answer = await p.expect("error")
        assert (answer["code"], answer["ref"]) == ("rate_limited", 7)


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "ping", "ref": True}, "ref"),
        ({"type": "ping", "ref": False}, "ref"),
        ({"type": "ping", "ref": 1.0}, "ref"),
        ({"type": "move", "user_id": True, "position": 0}, "user_id"),
        ({"type": "move", "user_id": 2, "position": "0"}, "position"),
        ({"type": "extend_floor", "seconds": 30.0}, "seconds"),
        ({"type": "give_floor", "limit_s": True}, "limit_s"),
        ({"type": "join", "room": GROUP, "seat": "remote", "since": "3"}, "since"),
    ],
)
async def test_bools_strings_and_floats_are_not_integers(
    sqlite_server: LiveServer, frame: dict[str, object], field: str
) -> None:
    member = await person(sqlite_server, role="member")
    async with peer(sqlite_server, member) as p:
        await p.ws.send(json.dumps(frame))
        answer = await p.expect("error")
        assert (answer["code"], answer["field"]) == ("validation_error", field)
        if field == "ref":  # a ref that is not a ref is not echoed either
            assert "ref" not in answer
        assert (await p.call({"type": "ping"}))["type"] == "pong"


async def test_every_valid_ref_is_echoed_zero_and_empty_too(sqlite_server: LiveServer) -> None:
    async with peer(sqlite_server) as p:
        for ref in (0, "", 2**53, "x" * 64):
            await p.ws.send(json.dumps({"type": "ping", "ref": ref}))
            assert await p.expect("pong") == {"type": "pong", "ref": ref}
        refused_refs: tuple[object, ...] = (-1, 2**53 + 1, "x" * 65, [1], {"a": 1}, None)
        for refused in refused_refs:
            await p.ws.send(json.dumps({"type": "ping", "ref": refused}))
            answer = await p.next()
            assert "ref" not in answer


async def test_a_refused_join_leaves_the_connection_where_it_was(
    sqlite_server: LiveServer, capture_events: EventCapture
) -> None:
    """Joining again (another seat, another room) is refused before anything changes:
    the connection keeps its seat and goes on receiving the room's events."""
    server = sqlite_server
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    await schedule_and_open(chair)
    room = await room_id(server)
    async with peer(server, member) as m, peer(server, chair) as c:
        await c.join("participant")
        start = (await m.join("remote"))["seq"]
        before = await room_snapshot(server)
        async with capture_events(server, rooms=(room,), expected=0):
            for frame, code in (
                ({"type": "join", "room": GROUP, "seat": "observer"}, "forbidden"),
                ({"type": "join", "room": "no-such-room", "seat": "remote"}, "not_found"),
            ):
                assert (await m.call(frame))["code"] == code
        assert await room_snapshot(server) == before
        # Still seated: a hand raised is acknowledged, and the room's events still come.
        assert (await m.call({"type": "raise_hand"}))["seq"] == start + 1
        await c.expect("queue", op="raise")
        assert (await c.call({"type": "give_floor"}))["type"] == "ack"
        assert (await m.expect("floor", op="give"))["floor"]["user_id"] == member.id
