"""Frames written straight to the transport (`forum.ws.direct_send`), a queue only for a
connection behind, and the ASGI path on servers the direct one does not know. Real
uvicorn servers, real `websockets` clients; slow readers stop reading at the TCP level.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.frames import Frame, Opcode

from forum.limits import MemoryRateLimiter
from forum.ws.connection import Connection
from forum.ws.direct_send import Outgoing
from forum.ws.protocol import CLOSE_SLOW_CONSUMER
from tests.people import person
from tests.rooms_support import Peer, peer, schedule_and_open
from tests.support import LiveServer, live_server, make_settings
from tests.test_ws_delivery import chair_says, drain, small_window_peer

SANSIO = {"ws": "websockets-sansio"}
# uvicorn's other `websockets` implementation: frames go through ASGI there.
LEGACY = {"ws": "websockets"}
DEFLATE = {"ws_per_message_deflate": True}
BIG = "x" * 3000


@asynccontextmanager
async def server_with(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter, ws: dict[str, Any], **changes: Any
) -> AsyncIterator[LiveServer]:
    settings = make_settings(sqlite_url, tmp_path).with_(**changes)
    async with live_server(settings, limiter=limiter, send_buffer=8192, ws_options=ws) as live:
        yield live


def connection_of(server: LiveServer, user_id: int) -> Connection:
    (connection,) = [c for c in server.state["hub"].connections if c.user_id == user_id]
    assert isinstance(connection, Connection)
    return connection


def behind(connection: Connection) -> bool:
    """Read afresh: it changes while the test awaits the server."""
    return connection.behind


async def until(check: Callable[[], bool] | Callable[[], Awaitable[bool]], wait: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        done = check()
        if not isinstance(done, bool):
            done = await done
        if done:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def read_until_seq(p: Peer, seq: int, wait: float = 20) -> None:
    while not any(frame.get("seq") == seq for frame in p.events()):
        await p.next(wait)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65_535, 65_536, 70_000])
def test_a_frame_is_framed_as_the_websockets_library_frames_it(size: int) -> None:
    payload = ("é" * size).encode()[:size]
    expected = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert Outgoing(None, payload).wire == expected


async def test_frames_go_straight_to_the_transport_without_compression(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    """The client offers compression (as `websockets` does unasked); none is agreed,
    and room frames, acks and pongs are written to the transport directly."""
    async with server_with(sqlite_url, tmp_path, limiter, SANSIO) as server:
        chair = await person(server, role="chair")
        member = await person(server, role="member")
        await schedule_and_open(chair)
        async with peer(server, member) as m:
            assert m.ws.response is not None
            assert "Sec-WebSocket-Extensions" not in m.ws.response.headers
            connection = connection_of(server, member.id)
            assert connection.direct and not behind(connection)
            start = (await m.join("remote"))["seq"]
            said = await chair_says(server, chair, ["é ü", "two", "three"])
            await read_until_seq(m, said[-1])
            assert [f["body"] for f in m.events()] == ["é ü", "two", "three"]
            assert [f["seq"] for f in m.events()] == list(range(start + 1, said[-1] + 1))
            assert (await m.call({"type": "ping"}))["type"] == "pong"
            assert not behind(connection), "nothing was ever queued"


@pytest.mark.parametrize("ws", [LEGACY, DEFLATE], ids=["legacy-websockets", "deflate"])
@pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore:The `websockets` implementation is deprecated"
)
async def test_on_a_server_it_does_not_know_delivery_goes_through_asgi(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter, ws: dict[str, Any]
) -> None:
    """Another uvicorn implementation, or compression on: the direct write is not
    used, and everything still arrives once, in order, answers among events."""
    async with server_with(sqlite_url, tmp_path, limiter, {**SANSIO, **ws}) as server:
        chair = await person(server, role="chair")
        member = await person(server, role="member")
        await schedule_and_open(chair)
        async with peer(server, member) as m:
            connection = connection_of(server, member.id)
            assert not connection.direct
            start = (await m.join("remote"))["seq"]
            said = await chair_says(server, chair, [f"n{n}" for n in range(30)])
            assert (await m.call({"type": "ping"}))["type"] == "pong"
            said += await chair_says(server, chair, ["last"])
            await read_until_seq(m, said[-1])
            assert [f["seq"] for f in m.events()] == list(range(start + 1, said[-1] + 1))
            # The queue and its sender went once drained.
            await until(lambda: not behind(connection), wait=5)


async def test_a_connection_behind_is_queued_and_its_frames_keep_their_order(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    """A reader that stops reading gets its frames queued (its own answers too, after
    the events before them); once it reads again it gets everything in order, the queue
    goes, and frames are written directly again."""
    async with server_with(sqlite_url, tmp_path, limiter, SANSIO) as server:
        chair = await person(server, role="chair")
        member = await person(server, role="member")
        await schedule_and_open(chair)
        async with small_window_peer(server, member) as slow:
            start = (await slow.join("remote"))["seq"]
            connection = connection_of(server, member.id)
            slow.ws.transport.pause_reading()
            said: list[int] = []
            while not behind(connection):
                said += await chair_says(server, chair, [f"{len(said)} {BIG}"])
                assert len(said) < 200, "it never fell behind"
            said += await chair_says(server, chair, [f"{len(said)} {BIG}" for _ in range(3)])
            queued = connection.queued
            ping = await slow.send({"type": "ping"})
            await until(lambda: connection.queued > queued, wait=5)
            after_ping = await chair_says(server, chair, [f"after {n}" for n in range(3)])
            assert behind(connection) and not connection.closing

            # Reading again: the transport takes more before the sender has written
            # what waits. A frame of its own offered then must wait behind the queue.
            wire = connection.wire
            assert wire is not None
            slow.ws.transport.resume_reading()
            probed = False
            for _ in range(100_000):
                if behind(connection) and wire.ready():
                    connection.push({"type": "ack", "ref": "probe"})
                    probed = True
                    break
                await asyncio.sleep(0)
            assert probed, "the transport never took more while the queue waited"
            meanwhile = await chair_says(server, chair, [f"then {n} {BIG}" for n in range(5)])
            await read_until_seq(slow, meanwhile[-1])
            seqs = [f["seq"] for f in slow.events()]
            assert seqs == list(range(start + 1, meanwhile[-1] + 1))
            kinds = [(f["type"], f.get("seq"), f.get("ref")) for f in slow.seen]
            pong = kinds.index(("pong", None, ping))
            before = {seq for _, seq, _ in kinds[:pong] if seq is not None}
            assert set(said) <= before and not set(after_ping) & before
            probe = kinds.index(("ack", None, "probe"))
            assert {seq for _, seq, _ in kinds[:probe] if seq is not None} >= set(after_ping)

            await until(lambda: not behind(connection), wait=5)
            more = await chair_says(server, chair, ["caught up"])
            assert not behind(connection), "a connection that caught up is written directly"
            await read_until_seq(slow, more[-1])
            assert [f["seq"] for f in slow.events()][-2:] == [meanwhile[-1], more[-1]]


@pytest.mark.parametrize("ws", [SANSIO, LEGACY], ids=["direct", "asgi"])
@pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore:The `websockets` implementation is deprecated"
)
async def test_a_slow_reader_is_queued_then_cut_and_a_fast_one_gets_everything(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter, ws: dict[str, Any]
) -> None:
    async with server_with(sqlite_url, tmp_path, limiter, ws, ws_send_queue=8) as server:
        chair = await person(server, role="chair")
        member = await person(server, role="member")
        reader = await person(server, role="member")
        await schedule_and_open(chair)
        async with peer(server, reader) as fast, small_window_peer(server, member) as slow:
            start = (await fast.join("participant"))["seq"]
            await slow.join("remote")
            slow_connection = connection_of(server, member.id)
            fast_connection = connection_of(server, reader.id)
            slow.ws.transport.pause_reading()
            reading = asyncio.create_task(fast.expect("intervention", wait=30, body="the end"))
            said: list[int] = []
            was_behind = False
            while not slow_connection.closing:
                said += await chair_says(server, chair, [f"{len(said)} {BIG}"])
                was_behind = was_behind or behind(slow_connection)
                assert len(said) < 400, "the queue never overflowed"
            assert was_behind, "cut without being queued first"
            said += await chair_says(server, chair, ["the end"])
            await reading
            assert [f["seq"] for f in fast.events()] == list(range(start + 1, said[-1] + 1))
            assert not fast_connection.closing

            slow.ws.transport.resume_reading()
            await drain(slow)
            assert slow.ws.close_code == CLOSE_SLOW_CONSUMER
            received = [f["seq"] for f in slow.events()]
            assert received == said[: len(received)]
