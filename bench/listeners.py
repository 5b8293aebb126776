"""Listener processes for `ws_fanout`: many WebSocket clients in one process.

Each process opens its share of the connections (joining the room when the server is
Agora), then counts the bench interventions every connection receives, by `seq`, and
times each from the send timestamp in its body to its receipt. Both ends read
`time.monotonic()`, which on Linux is one clock for every process of the machine.

Two listeners do that job. `c` (the default) runs `bench/lean_listener.c`, compiled once
with gcc into a cache directory, as a child of the listener process: one epoll loop for
every connection, a few µs of CPU per frame, so that the load generator is not the
limit of the run. `python` is the `websockets` client in one asyncio loop, with a
json.loads per frame: about ten times the CPU per frame, kept to compare the two.

The parent talks to a process through a pipe:

    child  -> ("ready", {...})            every connection is open (and joined)
    parent -> ("go", expected, deadline)  count `expected` interventions per connection
    child  -> ("result", {...})           all received, or the deadline passed
    parent -> ("exit",)
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

MARK = '"type":"intervention"'
JOIN_REF = "bench-join"
OPEN_TIMEOUT_S = 120.0
# While counting, the C listener sleeps this long between rounds of reads that find
# less than a full batch: a wake-up per round instead of one per frame, which was most
# of its CPU. Latencies are timed from the kernel's receive stamp, not the read.
NAP_US = 1000
KINDS = ("c", "python")
SOURCE = Path(__file__).resolve().parent / "lean_listener.c"
CFLAGS = ("-O2", "-Wall", "-Wextra")


@dataclass(frozen=True)
class Plan:
    url: str
    connections: int
    headers: dict[str, str] = field(default_factory=dict)
    join: dict[str, Any] | None = None  # the frame that seats a connection (Agora)
    concurrency: int = 32
    listener: str = "c"
    binary: str | None = None  # the compiled C listener (`build()`), for `listener="c"`
    nap_us: int = NAP_US


@dataclass
class Tally:
    """What one process's connections received."""

    connections: int = 0
    expected: int = 0
    complete: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    received: int = 0
    duplicates: int = 0
    frame_bytes: int = 0
    first: float = 0.0
    last: float = 0.0
    latencies: list[float] = field(default_factory=list)
    closed: dict[str, int] = field(default_factory=dict)
    by_index: Counter[int] = field(default_factory=Counter)


async def _open(plan: Plan) -> ClientConnection:
    websocket = await connect(
        plan.url,
        additional_headers=plan.headers,
        compression=None,
        proxy=None,
        open_timeout=OPEN_TIMEOUT_S,
        ping_interval=None,
        max_size=2**20,
    )
    if plan.join is not None:
        await websocket.send(json.dumps({**plan.join, "ref": JOIN_REF}))
        while True:
            raw = await asyncio.wait_for(websocket.recv(), OPEN_TIMEOUT_S)
            frame = json.loads(raw)
            if frame.get("ref") == JOIN_REF:
                if frame.get("type") != "joined":
                    raise RuntimeError(f"join refused: {frame}")
                break
    return websocket


async def _drain(websocket: ClientConnection, tally: Tally) -> None:
    seen: set[int] = set()
    try:
        async for raw in websocket:
            now = time.monotonic()
            if not isinstance(raw, str) or MARK not in raw:
                continue
            frame = json.loads(raw)
            words = frame["body"].split(" ", 3)
            if words[0] != "bench":
                continue
            seq = frame["seq"]
            if seq in seen:
                tally.duplicates += 1
                continue
            seen.add(seq)
            tally.by_index[int(words[1])] += 1
            tally.latencies.append(now - float(words[2]))
            tally.received += 1
            tally.frame_bytes += len(raw.encode())
            tally.first = tally.first or now
            tally.last = max(tally.last, now)
            if len(seen) == tally.expected:
                tally.complete += 1
                if tally.complete == tally.connections:
                    tally.done.set()
    except ConnectionClosed as exc:
        code = str(exc.rcvd.code) if exc.rcvd is not None else "1006"
        tally.closed[code] = tally.closed.get(code, 0) + 1


async def _listen(plan: Plan, pipe: Connection) -> None:
    tally = Tally()
    limit = asyncio.Semaphore(plan.concurrency)

    async def open_one() -> ClientConnection:
        async with limit:
            return await _open(plan)

    started = time.monotonic()
    opened = await asyncio.gather(
        *(open_one() for _ in range(plan.connections)), return_exceptions=True
    )
    sockets = [ws for ws in opened if isinstance(ws, ClientConnection)]
    failures = [repr(error) for error in opened if isinstance(error, BaseException)]
    drains = [asyncio.create_task(_drain(ws, tally)) for ws in sockets]
    pipe.send(
        (
            "ready",
            {
                "connected": len(sockets),
                "failed": len(failures),
                "errors": failures[:3],
                "connect_s": time.monotonic() - started,
            },
        )
    )

    _go, expected, deadline = await asyncio.to_thread(pipe.recv)
    tally.connections = len(sockets)
    tally.expected = expected
    cpu = time.process_time()
    sys_before = os.times().system
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(tally.done.wait(), max(0.0, deadline - time.monotonic()))
    pipe.send(
        (
            "result",
            {
                "connections": len(sockets),
                "complete": tally.complete,
                "received": tally.received,
                "duplicates": tally.duplicates,
                "frame_bytes": tally.frame_bytes,
                "first": tally.first,
                "last": tally.last,
                "closed": tally.closed,
                "latencies": tally.latencies,
                "by_index": dict(tally.by_index),
                "cpu_s": time.process_time() - cpu,
                "sys_s": os.times().system - sys_before,
            },
        )
    )

    await asyncio.to_thread(pipe.recv)  # ("exit",)
    for websocket in sockets:
        websocket.transport.abort()
    for task in drains:
        task.cancel()
    await asyncio.gather(*drains, return_exceptions=True)


def build() -> Path:
    """The C listener, compiled with gcc the first time its source is seen."""
    digest = hashlib.sha256(SOURCE.read_bytes() + " ".join(CFLAGS).encode()).hexdigest()
    cache = Path(tempfile.gettempdir()) / f"agora-bench-{os.getuid()}"
    binary = cache / f"lean_listener-{digest[:16]}"
    if binary.exists():
        return binary
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError(
            "the C listener (bench/lean_listener.c) needs gcc on the PATH "
            "(Debian: apt-get install gcc); or run with --listener python"
        )
    cache.mkdir(parents=True, exist_ok=True)
    partial = binary.with_suffix(f".{os.getpid()}.tmp")
    built = subprocess.run(
        [gcc, *CFLAGS, "-o", str(partial), str(SOURCE)], capture_output=True, text=True
    )
    if built.returncode != 0:
        raise RuntimeError(f"gcc could not compile {SOURCE.name}:\n{built.stderr}")
    os.replace(partial, binary)  # whole or not at all, for a concurrent run
    return binary


def read_event(
    process: subprocess.Popen[str], stdout: IO[str], name: str, who: str, whose: str
) -> dict[str, Any]:
    """The next line a C process of the bench writes, which must be its event `name`."""
    line = stdout.readline()
    if not line:
        code = process.wait()
        raise RuntimeError(f"{who} ended (exit code {code}) before {whose} {name}")
    event: dict[str, Any] = json.loads(line)
    if event.pop("event") != name:
        raise RuntimeError(f"{who} sent {line[:200]!r}, not {whose} {name}")
    return event


class LeanListener:
    """The C listener as a child process, driven by lines on its stdin and stdout."""

    def __init__(self, plan: Plan, binary: Path | str) -> None:
        url = urlsplit(plan.url)
        if url.scheme != "ws" or url.hostname is None:
            raise ValueError(f"the C listener speaks ws:// to an IPv4 address, not {plan.url}")
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        handle, latencies = tempfile.mkstemp(prefix="lean-listener-", suffix=".f64")
        os.close(handle)
        self.latencies = Path(latencies)
        args = [
            str(binary),
            *("--host", url.hostname, "--port", str(url.port or 80), "--path", path),
            *("--connections", str(plan.connections)),
            *("--concurrency", str(plan.concurrency), "--timeout", str(OPEN_TIMEOUT_S)),
            *("--latencies", latencies, "--nap-us", str(plan.nap_us)),
        ]
        for name, value in plan.headers.items():
            args += ["--header", f"{name}: {value}"]
        if plan.join is not None:
            join = json.dumps({**plan.join, "ref": JOIN_REF}, separators=(",", ":"))
            args += ["--join", join, "--join-ref", JOIN_REF]
        # A refusal's text comes from the server: not necessarily UTF-8.
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[str] = self.process.stdin
        self.stdout: IO[str] = self.process.stdout

    def _event(self, name: str) -> dict[str, Any]:
        return read_event(self.process, self.stdout, name, "the C listener", "its")

    def ready(self) -> dict[str, Any]:
        """Once every connection is open or has failed: connected, failed, errors."""
        return self._event("ready")

    def go(self, expected: int, deadline: float) -> None:
        self.stdin.write(f"go {expected} {deadline!r}\n")
        self.stdin.flush()

    def result(self) -> dict[str, Any]:
        """The tally, in the shape of the Python listener's."""
        result = self._event("result")
        latencies = array.array("d")
        latencies.frombytes(self.latencies.read_bytes())
        if len(latencies) != result["latencies"]:
            raise RuntimeError(f"{len(latencies)} latencies written, {result['latencies']} said")
        result["latencies"] = latencies.tolist()
        result["by_index"] = {int(k): v for k, v in result["by_index"].items()}
        return result

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError):  # it may have ended already
            self.stdin.write("exit\n")
            self.stdin.flush()
        with contextlib.suppress(BrokenPipeError):
            self.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stdout.close()
        self.latencies.unlink(missing_ok=True)


def _listen_c(plan: Plan, pipe: Connection) -> None:
    assert plan.binary is not None
    lean = LeanListener(plan, plan.binary)
    try:
        pipe.send(("ready", lean.ready()))
        _go, expected, deadline = pipe.recv()
        cpu = time.process_time()
        lean.go(expected, deadline)
        result = lean.result()
        # The C process's own CPU time since "go", and this process's while it waited.
        result["cpu_s"] += time.process_time() - cpu
        pipe.send(("result", result))
        pipe.recv()  # ("exit",)
    finally:
        lean.close()


def run(plan: Plan, pipe: Connection) -> None:
    """The target of a listener process."""
    if plan.listener == "c":
        _listen_c(plan, pipe)
    else:
        asyncio.run(_listen(plan, pipe))
