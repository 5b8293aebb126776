"""The two servers `ws_fanout` measures, each in its own process on 127.0.0.1.

`Agora` is `run.py` on a fresh SQLite database in a temporary directory, with the
product's defaults; or, given a PostgreSQL URL, on a fresh PostgreSQL database made
for the run, with a Redis server of its own (so that no other Redis user hears the
bench's rooms) and `--workers N`. Its accounts (a chair, the speakers, one listener account all the
listeners share) and their bearer tokens are written to the database before the server
starts: the product's per-address limits on registration and sign-in stay as they are.
The chair schedules and opens an `open_debate` session over HTTP.

`Relay` is a reference server that relays whatever arrives to every connection:
`bench/bare_server.py` (`websockets.broadcast()`) or `bench/asgi_server.py` (uvicorn
and Starlette, with Agora's per-connection queues).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from forum.db.base import utcnow
from forum.db.engine import create_engine, make_sessionmaker
from forum.db.migrate import upgrade
from forum.db.seed import seed_structure
from tests import factory
from tests.factory import GROUP

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
# The bench's accounts sign in by bearer token only: no password hashes to this.
FAMILIES = ("government", "civil_society", "private_sector", "international_org")
# In a speaker's frame template: where the body goes, the intervention's index, index + 1.
BODY, INDEX, NEXT = "\x01", "\x02", "\x03"


def fill(template: str, index: int, body: str) -> str:
    """The frame of intervention `index` from a template (`Server.speak_template`)."""
    return template.replace(BODY, body).replace(INDEX, str(index)).replace(NEXT, str(index + 1))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, alive now (uvicorn's workers are its children)."""
    found = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(OSError):
            found += process_tree(int(child))
    return found


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time of every process of the tree, by pid."""
    used = {}
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            used[member] = cpu_seconds(member)
    return used


def machine_busy(seconds: float = 1.0) -> float:
    """The share of the machine's CPU time spent busy over `seconds` (0 to 1)."""

    def sample() -> tuple[int, int]:
        values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle, iowait
        return idle, sum(values)

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


@dataclass
class Speaker:
    """One speaking connection. It reads everything the server sends it: Agora sends
    the speaker every event of the room too, and acks."""

    ws: ClientConnection
    acks: dict[int, float] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    sample: dict[str, Any] | None = None
    closed: str | None = None
    reader: asyncio.Task[None] | None = None
    received: int = 0  # frames read

    def start(self) -> None:
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                now = time.monotonic()
                self.received += 1
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "ack" and isinstance(frame.get("ref"), int):
                    self.acks[frame["ref"]] = now
                elif kind == "error":
                    self.errors.append(frame)
                elif kind == "intervention" and self.sample is None:
                    self.sample = frame
        except ConnectionClosed as exc:
            self.closed = f"{exc.rcvd.code} {exc.rcvd.reason}" if exc.rcvd else "1006"

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        self.ws.transport.abort()


class Server:
    """A server under test: its process, where listeners connect, how speakers speak."""

    name = ""
    process: subprocess.Popen[bytes]
    ws_url: str
    workdir: Path
    # An intervention frame as the speakers received it (Agora's is the bare one's model).
    sample: dict[str, Any] | None = None
    # The CPUs the server may run on (None: any).
    cpus: set[int] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def server_pids(self) -> list[int]:
        """Every process whose CPU is the server's: the server and its workers."""
        return process_tree(self.pid)

    def listener_headers(self) -> dict[str, str]:
        return {}

    def listener_join(self) -> dict[str, Any] | None:
        return None

    # Whether the server answers each intervention with an ack or an error (Agora).
    acks = False

    def speaker_headers(self, index: int) -> dict[str, str]:
        return {}

    def speaker_join(self) -> dict[str, Any] | None:
        return None

    async def start(self, speakers: int) -> None:
        raise NotImplementedError

    async def speaker(self, index: int) -> Speaker:
        raise NotImplementedError

    def speak_template(self, *, warm: bool = False) -> str:
        """The frame of a bench intervention (or a warm-up one), with `BODY`, `INDEX` and
        `NEXT` where its body, its index and the index + 1 go."""
        raise NotImplementedError

    def speak_frame(self, index: int, body: str, *, warm: bool = False) -> str:
        """The frame that makes bench intervention `index` (or a warm-up one)."""
        return fill(self.speak_template(warm=warm), index, body)

    def _spawn(self, args: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / "server.log").open("wb")
        # The child takes the CPUs of the thread that starts it.
        mine = os.sched_getaffinity(0)
        if self.cpus:
            os.sched_setaffinity(0, self.cpus)
        try:
            self.process = subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            os.sched_setaffinity(0, mine)

    def log_tail(self) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")[-2000:]

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
        errors = [line for line in self.log_tail().splitlines() if "ERROR" in line]
        if errors:
            print(f"  {self.name} logged errors:", *errors[:5], sep="\n    ", file=sys.stderr)
        shutil.rmtree(self.workdir, ignore_errors=True)


class Agora(Server):
    name = "agora"

    def __init__(self, *, postgres: str | None = None, workers: int = 1) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="ws-fanout-agora-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.tokens: dict[str, str] = {}
        self.workers = workers
        # PostgreSQL: the server's URL (any database); the run gets a database of its own.
        self.postgres = postgres
        self.database_url = f"sqlite+aiosqlite:///{self.workdir / 'agora.db'}"
        self.database_name: str | None = None
        self.redis: subprocess.Popen[bytes] | None = None
        self.redis_port = 0
        if postgres:
            self.name = f"agora-pg-{workers}w"

    async def _admin(self, statement: str) -> None:
        assert self.postgres is not None
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(self.postgres, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    async def _backends(self) -> dict[str, str]:
        """A fresh PostgreSQL database and a Redis of the run's own; their settings."""
        if not self.postgres:
            return {}
        self.database_name = f"agora_bench_{secrets.token_hex(6)}"
        await self._admin(f"CREATE DATABASE {self.database_name}")
        self.database_url = self.postgres.rsplit("/", 1)[0] + "/" + self.database_name
        self.redis_port = free_port()
        self._spawn_redis()
        for _ in range(100):
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.redis_port)
                writer.close()
                break
            await asyncio.sleep(0.05)
        return {
            "FORUM_DATABASE_URL": self.database_url,
            "FORUM_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
        }

    def _spawn_redis(self) -> None:
        # On the server's CPUs: its fan-out work is the server's.
        mine = os.sched_getaffinity(0)
        if self.cpus:
            os.sched_setaffinity(0, self.cpus)
        try:
            self.redis = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
            )
        finally:
            os.sched_setaffinity(0, mine)

    def server_pids(self) -> list[int]:
        pids = process_tree(self.pid)
        if self.redis is not None:
            pids.append(self.redis.pid)
        return pids

    async def stop(self) -> None:
        await super().stop()
        if self.redis is not None:
            self.redis.terminate()
            await asyncio.to_thread(self.redis.wait)
        if self.database_name:
            await self._admin(f"DROP DATABASE IF EXISTS {self.database_name} WITH (FORCE)")

    def listener_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['listener']}"}

    def listener_join(self) -> dict[str, Any]:
        return {"type": "join", "room": GROUP, "seat": "remote"}

    acks = True

    def speaker_headers(self, index: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[f'speaker{index}']}"}

    def speaker_join(self) -> dict[str, Any]:
        return {"type": "join", "room": GROUP, "seat": "participant"}

    async def start(self, speakers: int) -> None:
        env = await self._backends()
        await self._accounts(speakers)
        args = ["run.py", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self._spawn(
            [*args, "--workers", str(self.workers)],
            {
                **env,
                "FORUM_DATA_DIR": str(self.workdir),
                "FORUM_SECRET_KEY": secrets.token_urlsafe(48),
                # The listeners are one account on one address: the caps for a hall's
                # screens, raised to what the bench opens (the total cap stays).
                "FORUM_MAX_CONNECTIONS_PER_ACCOUNT": "5000",
                "FORUM_MAX_CONNECTIONS_PER_ADDRESS": "5000",
            },
        )
        async with httpx.AsyncClient(base_url=self.url, trust_env=False, timeout=10) as http:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Agora did not start:\n{self.log_tail()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            await self._open_session(http)

    async def _accounts(self, speakers: int) -> None:
        """Write the bench's people, memberships and bearer tokens to a fresh database."""
        engine = create_engine(self.database_url)
        try:
            await upgrade(engine)
            sessionmaker = make_sessionmaker(engine)
            async with sessionmaker() as session:
                await seed_structure(session)
            people = [("chair", "chair", "government")]
            people += [
                (f"speaker{i}", "member", FAMILIES[i % len(FAMILIES)]) for i in range(speakers)
            ]
            people.append(("listener", "member", "civil_society"))
            for name, role, family in people:
                made = await factory.make_person(
                    sessionmaker,
                    role=role,
                    group=GROUP,
                    lifetime=timedelta(days=1),
                    family=family,
                    country="CH",
                    name=f"Bench {name}",
                    email=f"{name}@bench.example.org",
                    organization="Benchmark",
                    password=None,
                )
                self.tokens[name] = made.token
        finally:
            await engine.dispose()

    async def _open_session(self, http: httpx.AsyncClient) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['chair']}"}
        now = utcnow()
        scheduled = await http.post(
            f"/api/rooms/{GROUP}/sessions",
            headers=headers,
            json={
                "title": "Fan-out benchmark",
                "agenda": "1. Interventions",
                "format": "open_debate",
                "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(),
            },
        )
        scheduled.raise_for_status()
        opened = await http.post(
            f"/api/rooms/{GROUP}/sessions/{scheduled.json()['id']}/open", headers=headers
        )
        opened.raise_for_status()

    async def speaker(self, index: int) -> Speaker:
        ws = await connect(
            self.ws_url,
            additional_headers=self.speaker_headers(index),
            compression=None,
            proxy=None,
            ping_interval=None,
        )
        await ws.send(json.dumps({**self.speaker_join(), "ref": "join"}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame.get("ref") == "join":
                if frame["type"] != "joined":
                    raise RuntimeError(f"speaker {index} could not join: {frame}")
                break
        speaker = Speaker(ws)
        speaker.start()
        return speaker

    def speak_template(self, *, warm: bool = False) -> str:
        text = json.dumps({"type": "speak", "body": "@body@", "ref": "@ref@"})
        ref = f'"warm-{INDEX}"' if warm else INDEX
        return text.replace('"@ref@"', ref).replace("@body@", BODY)


class Relay(Server):
    """A reference server that relays every frame to every connection."""

    def __init__(self, name: str, module: str, template: dict[str, Any]) -> None:
        self.name = name
        self.module = module
        self.workdir = Path(tempfile.mkdtemp(prefix=f"ws-fanout-{name}-"))
        self.port = free_port()
        self.ws_url = f"ws://127.0.0.1:{self.port}/"
        # The frame Agora's listeners receive, so that every server sends the same bytes.
        self.template = template

    async def start(self, speakers: int) -> None:
        self._spawn(["-m", self.module, "--port", str(self.port)], {})
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return

    async def speaker(self, index: int) -> Speaker:
        ws = await connect(self.ws_url, compression=None, proxy=None, ping_interval=None)
        speaker = Speaker(ws)
        speaker.start()
        return speaker

    def speak_template(self, *, warm: bool = False) -> str:
        frame = {**self.template, "body": "@body@", "seq": "@seq@"}
        text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
        return text.replace('"@seq@"', "0" if warm else NEXT).replace('"@body@"', f'"{BODY}"')
