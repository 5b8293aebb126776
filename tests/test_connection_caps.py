"""Open connections are capped per address, per account and in all, with budgets of
their own for signed-out readers; every way a connection ends gives its slot back.
Room WebSockets and event streams, through a real uvicorn server and real clients;
other addresses are other loopback sources (127.0.0.2, ...)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from forum.connection_caps import EVERYONE, ConnectionCaps
from forum.db.models import Presence
from forum.limits import MemoryRateLimiter
from forum.ws.protocol import CLOSE_TOO_MANY_CONNECTIONS
from tests.discussions_support import open_thread
from tests.people import Person, person, signed_in
from tests.rooms_support import schedule_and_open
from tests.support import LiveServer, live_server, make_settings

CAPS = {
    "max_connections": 5,
    "max_signed_out_connections": 2,
    "max_connections_per_address": 3,
    "max_signed_out_connections_per_address": 2,
    "max_connections_per_account": 2,
}


@asynccontextmanager
async def capped_server(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter, **changes: Any
) -> AsyncIterator[LiveServer]:
    settings = make_settings(sqlite_url, tmp_path).with_(**{**CAPS, **changes})
    async with live_server(settings, limiter=limiter) as live:
        yield live


def caps(server: LiveServer) -> ConnectionCaps:
    return server.state["connection_caps"]


async def counted(server: LiveServer, key: str = EVERYONE) -> int:
    return await caps(server).counter.count(key)


def source_socket(server: LiveServer, address: str) -> socket.socket:
    """A TCP connection to the server from loopback address `address`."""
    port = int(server.ws_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), source_address=(address, 0))
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def opened(
    server: LiveServer, who: Person | None = None, address: str = "127.0.0.1", **kwargs: Any
) -> AsyncIterator[ClientConnection]:
    headers = who.headers(server) if who else {"Origin": server.origin}
    sock = source_socket(server, address)
    async with connect(
        server.ws_url + "/ws", additional_headers=headers, sock=sock, **kwargs
    ) as ws:
        yield ws


async def admitted(ws: ClientConnection) -> None:
    hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert hello["type"] == "hello"


async def refused(ws: ClientConnection, cap: str) -> None:
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == CLOSE_TOO_MANY_CONNECTIONS
    assert ws.close_reason and cap in ws.close_reason, ws.close_reason


async def until(check: Callable[[], Awaitable[bool]], wait: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not await check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def all_released(server: LiveServer) -> bool:
    return await counted(server) == 0


async def test_one_websocket_more_than_allowed_is_closed_4503(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    async with capped_server(sqlite_url, tmp_path, limiter) as server, AsyncExitStack() as open_:
        hub = server.state["hub"]
        amina = await person(server, role="member")
        bruno = await person(server, role="member")

        async def attempt(who: Person | None, address: str) -> ClientConnection:
            return await open_.enter_async_context(opened(server, who, address))

        # Signed out: two from an address, then the address's signed-out budget is full.
        for _ in range(2):
            await admitted(await attempt(None, "127.0.0.1"))
        await refused(await attempt(None, "127.0.0.1"), "your address while signed out")
        # ... and the signed-out budget in all: another address gets no more.
        await refused(await attempt(None, "127.0.0.2"), "signed-out readers")
        # Signed in, the same address has room for one more (3 per address)...
        await admitted(await attempt(amina, "127.0.0.1"))
        await refused(await attempt(amina, "127.0.0.1"), "your address")
        # ... and an account for two, wherever they come from.
        await admitted(await attempt(amina, "127.0.0.2"))
        await refused(await attempt(amina, "127.0.0.3"), "your account")
        # Five in all: signed-out readers could not take them, a fifth person does.
        await admitted(await attempt(bruno, "127.0.0.3"))
        await refused(await attempt(bruno, "127.0.0.4"), "anyone")

        assert await counted(server) == 5
        assert len(hub.connections) == 5
        assert await counted(server, "address:127.0.0.1") == 3
        assert await counted(server, f"account:{amina.id}") == 2
    assert await counted(server) == 0


async def test_the_refusal_is_logged_and_changes_nothing(
    sqlite_url: str,
    tmp_path: Path,
    limiter: MemoryRateLimiter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with capped_server(
        sqlite_url, tmp_path, limiter, max_connections_per_account=1
    ) as server:
        chair = await person(server, role="chair")
        member = await person(server, role="member")
        await schedule_and_open(chair)
        async with opened(server, member) as first:
            await admitted(first)
            await first.send(json.dumps({"type": "join", "room": "wgig", "seat": "remote"}))
            while json.loads(await first.recv())["type"] != "joined":
                pass
            before = await presence_rows(server)
            caplog.clear()
            async with opened(server, member) as second:
                await refused(second, "your account")
            assert await presence_rows(server) == before
            assert len(server.state["hub"].connections) == 1
            [line] = [r for r in caplog.records if r.name == "forum.security"]
            assert line.forum_code == "too_many_connections"  # type: ignore[attr-defined]
            assert line.forum_user_id == str(member.id)  # type: ignore[attr-defined]
            assert line.forum_detail == "account"  # type: ignore[attr-defined]
        await until(lambda: all_released(server))

        async def seat_left() -> bool:
            # The slot is given back first, the seat right after it.
            return await presence_rows(server) == []

        await until(seat_left)


async def presence_rows(server: LiveServer) -> list[tuple[int, str]]:
    from sqlalchemy import select

    async with server.state["sessionmaker"]() as session:
        rows = await session.execute(select(Presence.user_id, Presence.seat))
    return sorted((int(user_id), str(seat)) for user_id, seat in rows)


async def test_every_way_a_websocket_ends_gives_its_slot_back(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    async with capped_server(
        sqlite_url,
        tmp_path,
        limiter,
        max_connections_per_account=10,
        max_connections_per_address=10,
        ws_ping_interval=0.3,
        ws_ping_timeout=0.3,
    ) as server:
        chair = await person(server, role="chair")
        member = await person(server, role="member")
        await schedule_and_open(chair)

        # The client closes.
        async with opened(server, member) as ws:
            await admitted(ws)
        await until(lambda: all_released(server))
        # The server closes: a binary frame (1003), a frame over the limit (1009).
        for frame, code in ((b"{}", 1003), ("x" * 20_000, 1009)):
            async with opened(server, member) as ws:
                await admitted(ws)
                await ws.send(frame)
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 5)
                assert ws.close_code == code
            await until(lambda: all_released(server))
        # The connection breaks without a close frame, seated in a room.
        async with opened(server, member) as ws:
            await admitted(ws)
            await ws.send(json.dumps({"type": "join", "room": "wgig", "seat": "remote"}))
            while json.loads(await ws.recv())["type"] != "joined":
                pass
            assert await counted(server) == 1
            ws.transport.abort()
        await until(lambda: all_released(server))
        # A dead peer: it stops reading, and answers no ping.
        async with opened(server, member, ping_interval=None, close_timeout=0.5) as ws:
            await admitted(ws)
            ws.transport.pause_reading()
            await until(lambda: all_released(server), wait=5)
            ws.transport.abort()
        assert not server.state["hub"].connections
        # The server shuts down with connections open (their tasks end or are cancelled).
        left_open = AsyncExitStack()
        sockets = [await left_open.enter_async_context(opened(server, member)) for _ in range(3)]
        for ws in sockets:
            await admitted(ws)
        assert await counted(server) == 3
        shut = caps(server)
    # The server has stopped: its connections have given their slots back.
    assert await shut.counter.count(EVERYONE) == 0
    assert await shut.counter.count(f"account:{member.id}") == 0
    assert all(ws.close_code == 1012 for ws in sockets)
    await left_open.aclose()


# -- event streams ---------------------------------------------------------------------


async def a_thread(server: LiveServer) -> int:
    async with signed_in(server) as author:
        created = await open_thread(author, code="C1", title="Capped streams")
    return int(created["thread"]["id"])


def from_address(server: LiveServer, address: str, **kwargs: Any) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=server.url, transport=transport, timeout=5, **kwargs)


async def test_one_event_stream_more_than_allowed_is_refused_429_or_503(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    async with capped_server(sqlite_url, tmp_path, limiter) as server, AsyncExitStack() as open_:
        thread = await a_thread(server)
        url = f"/api/threads/{thread}/events"

        async def stream(address: str) -> httpx.Response:
            http = await open_.enter_async_context(from_address(server, address))
            return await open_.enter_async_context(http.stream("GET", url))

        for _ in range(2):
            assert (await stream("127.0.0.1")).status_code == 200
        over = await stream("127.0.0.1")
        assert over.status_code == 429
        assert over.headers["retry-after"] == "30"
        body = json.loads(await over.aread())
        assert body["error"]["code"] == "too_many_connections"
        assert body["error"]["cap"] == "signed-out-address"
        # The signed-out budget in all is full too: another address gets 503.
        full = await stream("127.0.0.2")
        assert full.status_code == 503
        assert json.loads(await full.aread())["error"]["cap"] == "signed-out"
        # A room WebSocket counts in the same budget.
        async with opened(server, None, "127.0.0.3") as ws:
            await refused(ws, "signed-out readers")
        assert await counted(server) == 2
    await until(lambda: all_released(server))


async def test_every_way_a_stream_ends_gives_its_slot_back(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    async with capped_server(
        sqlite_url, tmp_path, limiter, extra={"sse_lifetime_s": 0.3, "sse_keepalive_s": 0.1}
    ) as server:
        thread = await a_thread(server)
        url = f"/api/threads/{thread}/events"
        async with from_address(server, "127.0.0.1") as http:
            # The reader goes away.
            async with http.stream("GET", url) as response:
                assert response.status_code == 200
                assert await counted(server) == 1
            await until(lambda: all_released(server))
            # The stream ends by itself (its lifetime).
            async with http.stream("GET", url) as response:
                assert response.status_code == 200
                lines = [line async for line in response.aiter_lines()]
                assert ": keepalive" in lines
            await until(lambda: all_released(server))
            # A replay first, then the end of its lifetime.
            async with http.stream("GET", url, headers={"Last-Event-ID": "0"}) as response:
                assert response.status_code == 200
                await response.aread()
            await until(lambda: all_released(server))
            # Two signed-out streams at the cap, again and again: nothing leaked.
            for _ in range(3):
                async with http.stream("GET", url) as one, http.stream("GET", url) as two:
                    assert (one.status_code, two.status_code) == (200, 200)
                await until(lambda: all_released(server))


async def test_a_signed_in_readers_streams_count_against_the_account(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    """From any address, an account holds two streams here and no third; the refusal
    names the account in the security log."""
    async with capped_server(sqlite_url, tmp_path, limiter) as server, AsyncExitStack() as open_:
        thread = await a_thread(server)
        reader = await person(server)
        url = f"/api/threads/{thread}/events"
        headers = {"Authorization": f"Bearer {reader.token}"}

        async def stream(address: str) -> httpx.Response:
            http = await open_.enter_async_context(from_address(server, address, headers=headers))
            return await open_.enter_async_context(http.stream("GET", url))

        for address in ("127.0.0.1", "127.0.0.2"):
            assert (await stream(address)).status_code == 200
        assert await counted(server, f"account:{reader.id}") == 2
        caplog.clear()
        over = await stream("127.0.0.3")
        assert over.status_code == 429
        assert json.loads(await over.aread())["error"]["cap"] == "account"
        keys = ("code", "ip", "user_id", "path", "detail")
        logged = [
            {key: record.__dict__.get(f"forum_{key}") for key in keys}
            for record in caplog.records
            if record.name == "forum.security"
        ]
        assert {
            "code": "too_many_connections",
            "ip": "127.0.0.3",
            "user_id": str(reader.id),
            "path": url,
            "detail": "account",
        } in logged
    await until(lambda: all_released(server))
