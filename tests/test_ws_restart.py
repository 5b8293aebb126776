"""A restart with hundreds of people seated: SIGTERM to `run.py`, and every seat is given
up before the process exits, within uvicorn's graceful timeout, with nothing cancelled
and no traceback in the log; the room shows nobody once it is back, on SQLite and on
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.support import CHEAP_HASHING_ENV, free_port, until_served
from tests.test_durability import join_wgig, sql, token_for

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 300
# run.py's `timeout_graceful_shutdown`: past it uvicorn cancels what still runs.
GRACEFUL_S = 5


class Server:
    """`run.py` on its own port, its log (INFO and up) kept in a file."""

    def __init__(self, data_dir: Path, database_url: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            **CHEAP_HASHING_ENV,
            "FORUM_DATA_DIR": str(data_dir),
            "FORUM_DATABASE_URL": database_url,
            "FORUM_SECRET_KEY": "k" * 40,
            # Hundreds of connections from one address and one account.
            "FORUM_MAX_CONNECTIONS_PER_ADDRESS": "2000",
            "FORUM_MAX_CONNECTIONS_PER_ACCOUNT": "2000",
        }
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "run.py"), "--port", str(self.port)],
                cwd=data_dir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        await until_served(self.url)

    def stop(self) -> float:
        """SIGTERM, and the seconds until the process has exited."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(GRACEFUL_S * 4)
        return time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@asynccontextmanager
async def seated(
    server: Server, token: str, ref: str
) -> AsyncIterator[tuple[ClientConnection, dict[str, Any]]]:
    """A connection on a remote seat in wgig, and its `joined`."""
    async with connect(
        f"ws://127.0.0.1:{server.port}/ws",
        additional_headers={"Authorization": f"Bearer {token}", "Origin": server.url},
        open_timeout=60,
    ) as ws:
        await ws.send(json.dumps({"type": "join", "room": "wgig", "seat": "remote", "ref": ref}))
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("ref") == ref:
                break
        assert frame["type"] == "joined", frame
        yield ws, frame


async def member(http: httpx.AsyncClient, database_url: str) -> tuple[int, str]:
    user_id, token = await token_for(http, family="government")
    await join_wgig(database_url, user_id, "member")
    return user_id, token


async def presence_rows(database_url: str) -> list[tuple[Any, ...]]:
    return await sql(database_url, "SELECT user_id, worker FROM room_presence")


async def presence_version(database_url: str) -> int:
    [(ver,)] = await sql(
        database_url,
        "SELECT r.presence_ver FROM rooms r JOIN groups g ON g.id = r.group_id "
        "WHERE g.slug = 'wgig'",
    )
    return int(ver)


async def test_a_restart_gives_up_every_seat_in_time(tmp_path: Path, database_url: str) -> None:
    first = Server(tmp_path, database_url, tmp_path / "first.log")
    try:
        await first.ready()
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
            many_id, many = await member(http, database_url)
            other_id, other = await member(http, database_url)
        async with AsyncExitStack() as stack:
            gate = asyncio.Semaphore(50)

            async def join(n: int) -> None:
                async with gate:
                    await stack.enter_async_context(seated(first, many, f"j{n}"))

            await asyncio.gather(*(join(n) for n in range(CONNECTIONS)))
            assert len(await presence_rows(database_url)) == CONNECTIONS
            before = await presence_version(database_url)
            took = await asyncio.to_thread(first.stop)
        # uvicorn raises the signal again once it has shut down cleanly.
        assert first.process.returncode in (0, -signal.SIGTERM)
    finally:
        first.kill()
    log = (tmp_path / "first.log").read_text()
    assert took < GRACEFUL_S, (took, log[-3000:])
    for sign in ("Traceback", "Task was destroyed", "CancelledError", "graceful shutdown exceeded"):
        assert sign not in log, log[-3000:]
    assert await presence_rows(database_url) == []
    # Each transaction that gives seats up moves the room's presence version once: the
    # hundreds went in a few, not one each.
    assert await presence_version(database_url) - before <= CONNECTIONS // 10
    assert await sql(database_url, "SELECT id FROM room_spectators") == []

    # Back up: the room shows the one person who joins, not the hundreds who were there.
    again = Server(tmp_path, database_url, tmp_path / "again.log")
    try:
        await again.ready()
        async with seated(again, other, "back") as (_ws, joined):
            assert [u["user_id"] for u in joined["presence"]["users"]] == [other_id]
            assert many_id != other_id
    finally:
        again.kill()
