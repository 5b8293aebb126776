"""What the scale-out tests share: a Redis server of their own (killed and restarted on
the same port), forum processes started with `run.py` on PostgreSQL and that Redis, and
people made over HTTP with their roles written straight into the shared database."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from websockets.asyncio.client import connect

from forum.db.engine import create_engine, make_sessionmaker
from tests import factory
from tests.factory import GROUP
from tests.rooms_support import Peer
from tests.support import CHEAP_HASHING_ENV, free_port

ROOT = Path(__file__).resolve().parents[1]


class RedisServer:
    """`redis-server` on a free port, in memory only; `kill` and `start` again keep the
    port, as a restarted Redis behind the same address would."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def start(self) -> None:
        self.spawn()
        redis = Redis.from_url(self.url)
        try:
            for _ in range(200):
                try:
                    if await redis.ping():
                        return
                except Exception:  # noqa: BLE001 - not up yet
                    await asyncio.sleep(0.02)
        finally:
            await redis.aclose()
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


class Node:
    """One forum process: `run.py` on its own port."""

    def __init__(self, data_dir: Path, env: dict[str, str], *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "--port", str(self.port)]
            + ["--workers", str(workers), "--log-level", "warning"],
            cwd=data_dir,
            env={**os.environ, **CHEAP_HASHING_ENV, "FORUM_DATA_DIR": str(data_dir), **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:
            response = await http.get("/healthz")
        return response.status_code, response.json()

    async def ready(self, wait: float = 30) -> None:
        await self.until_healthy(wait)

    async def until_healthy(self, wait: float = 15) -> None:
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the forum process ended with {self.process.returncode}")
            try:
                if (await self.health())[0] == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
        raise AssertionError("the forum process is not healthy")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


async def person(database_url: str, *, role: str | None = None) -> dict[str, Any]:
    """Someone with a bearer token, and `role` in the group, in the nodes' database."""
    engine = create_engine(database_url)
    try:
        made = await factory.make_person(make_sessionmaker(engine), role=role)
    finally:
        await engine.dispose()
    return {**made.account, "token": made.token}


def bearer(who: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {who['token']}"}


@asynccontextmanager
async def peer(node: Node, who: dict[str, Any]) -> AsyncIterator[Peer]:
    headers = {**bearer(who), "Origin": node.url}
    async with connect(node.ws_url, additional_headers=headers) as ws:
        p = Peer(ws)
        hello = await p.next()
        assert hello["type"] == "hello"
        yield p


async def open_session(node: Node, chair: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=node.url, headers=bearer(chair), timeout=10) as http:
        created = await http.post(
            f"/api/rooms/{GROUP}/sessions",
            json={
                "title": "Sitting",
                "agenda": "",
                "format": "open_debate",
                "starts_at": "2005-11-16T09:00:00+01:00",
                "ends_at": "2005-11-16T12:00:00+01:00",
            },
        )
        assert created.status_code == 201, created.text
        opened = await http.post(f"/api/rooms/{GROUP}/sessions/{created.json()['id']}/open")
        assert opened.status_code == 200, opened.text


def events(p: Peer) -> list[tuple[int, str]]:
    """(seq, type) of every numbered room event the peer received, in the order received."""
    return [(frame["seq"], frame["type"]) for frame in p.events()]


def interventions(p: Peer) -> list[str]:
    return [frame["body"] for frame in p.events() if frame["type"] == "intervention"]


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame)
