"""Listener processes for `ws_fanout`: many WebSocket clients in one asyncio loop.

Each process opens its share of the connections (joining the room when the server is
Agora), then counts the bench interventions every connection receives, by `seq`, and
times each from the send timestamp in its body to its receipt. Both ends read
`time.monotonic()`, which on Linux is one clock for every process of the machine.

The parent talks to a process through a pipe:

    child  -> ("ready", {...})            every connection is open (and joined)
    parent -> ("go", expected, deadline)  count `expected` interventions per connection
    child  -> ("result", {...})           all received, or the deadline passed
    parent -> ("exit",)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

MARK = '"type":"intervention"'
JOIN_REF = "bench-join"
OPEN_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Plan:
    url: str
    connections: int
    headers: dict[str, str] = field(default_factory=dict)
    join: dict[str, Any] | None = None  # the frame that seats a connection (Agora)
    concurrency: int = 32


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
            },
        )
    )

    await asyncio.to_thread(pipe.recv)  # ("exit",)
    for websocket in sockets:
        websocket.transport.abort()
    for task in drains:
        task.cancel()
    await asyncio.gather(*drains, return_exceptions=True)


def run(plan: Plan, pipe: Connection) -> None:
    """The target of a listener process."""
    asyncio.run(_listen(plan, pipe))
