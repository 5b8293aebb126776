"""The fan-out bench's C listener (`bench/lean_listener.c`) against a real `websockets`
server: the handshake and its headers, the join, frames of every length, split over
reads, several in one read, fragmented, pings, close codes and refusals.

The C listener is compiled with gcc here, as the bench does: no gcc, a failure.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from bench import listeners
from bench.listeners import JOIN_REF, LeanListener, Plan

JOIN = {"type": "join", "room": "bench-room", "seat": "remote"}
HEADERS = {"Authorization": "Bearer t0ken", "Origin": "http://bench.example.org"}
Handler = Callable[[ServerConnection, int], Awaitable[None]]


def intervention(seq: int, index: int, chars: int = 0, kind: str = "bench") -> str:
    body = f"{kind} {index} {time.monotonic():.6f} " + "x" * chars
    frame = {"type": "intervention", "op": "post", "seq": seq, "body": body, "room": 1}
    return json.dumps(frame, separators=(",", ":"))


def raw_frame(payload: bytes, *, opcode: int = 1, fin: bool = True, rsv: int = 0) -> bytes:
    """A server frame as the wire carries it (unmasked)."""
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + n.to_bytes(2, "big")
    else:
        head += bytes([127]) + n.to_bytes(8, "big")
    return head + payload


async def run_listener(
    handler: Handler,
    connections: int,
    expected: int,
    *,
    wait_s: float,
    join: dict[str, Any] | None = None,
    refuse: Callable[[int], bool] = lambda _: False,
) -> tuple[dict[str, Any], dict[str, Any], list[BaseException]]:
    """Serve `connections` C-listener connections, one at a time in order, with
    `handler`; return its ready and result events and what the handlers raised."""
    binary = await asyncio.to_thread(listeners.build)
    failures: list[BaseException] = []
    order: dict[int, int] = {}  # id of a connection: its rank of arrival

    def process_request(connection: ServerConnection, _request: Request) -> Response | None:
        order[id(connection)] = len(order)
        if refuse(order[id(connection)]):
            return Response(HTTPStatus.FORBIDDEN, "Forbidden", Headers(), b"no\n")
        return None

    async def serve_one(websocket: ServerConnection) -> None:
        try:
            await handler(websocket, order[id(websocket)])
        except BaseException as exc:
            failures.append(exc)
            raise

    async with serve(
        serve_one, "127.0.0.1", 0, compression=None, process_request=process_request
    ) as server:
        port = server.sockets[0].getsockname()[1]
        plan = Plan(
            url=f"ws://127.0.0.1:{port}/bench?room=1",
            connections=connections,
            headers=HEADERS,
            join=join,
            concurrency=1,
        )
        lean = LeanListener(plan, binary)
        try:
            ready = await asyncio.to_thread(lean.ready)
            lean.go(expected, time.monotonic() + wait_s)
            result = await asyncio.to_thread(lean.result)
        finally:
            await asyncio.to_thread(lean.close)
    return ready, result, failures


async def test_frames_of_every_shape_are_counted_once_by_seq() -> None:
    pongs = 0
    seen: list[tuple[str, Headers]] = []

    async def handler(ws: ServerConnection, _index: int) -> None:
        nonlocal pongs
        assert ws.request is not None
        seen.append((ws.request.path, ws.request.headers))
        join = json.loads(await ws.recv())
        assert join == {**JOIN, "ref": JOIN_REF}
        await ws.send(json.dumps({"type": "presence", "ref": "someone-else"}))
        await ws.send(json.dumps({"type": "joined", "ref": JOIN_REF}, separators=(",", ":")))

        await ws.send(intervention(1, 0, chars=200))  # 16-bit length
        await ws.send(intervention(2, 1, chars=300_000))  # 64-bit, over one read
        await ws.send(intervention(2, 1))  # a duplicate of seq 2
        await ws.send(intervention(0, 0, kind="warm"))  # not the bench's
        await ws.send(json.dumps({"type": "presence", "seq": 9, "body": "bench 7 1.0 x"}))
        await ws.send(intervention(99, 7).encode())  # binary: not counted
        await asyncio.wait_for(await ws.ping(b"are you there"), 5)  # a masked pong
        pongs += 1
        split = raw_frame(intervention(3, 2, chars=150).encode())
        for piece in (split[:1], split[1:3], split[3:40], split[40:]):
            ws.transport.write(piece)  # the extended length and the payload over reads
            await asyncio.sleep(0.05)
        text = intervention(4, 3, chars=500)
        await ws.send([text[:10], text[10:11], text[11:]])  # a fragmented message
        ws.transport.write(
            raw_frame(intervention(5, 4).encode()) + raw_frame(intervention(6, 5).encode())
        )
        await ws.wait_closed()

    ready, result, failures = await run_listener(handler, 3, 6, wait_s=10.0, join=JOIN)

    assert failures == []
    assert ready["connected"] == 3 and ready["failed"] == 0, ready
    assert pongs == 3
    for path, headers in seen:
        assert path == "/bench?room=1"
        assert {name: headers[name] for name in HEADERS} == HEADERS
    assert result["complete"] == 3
    assert result["received"] == 18
    assert result["duplicates"] == 3
    assert result["by_index"] == dict.fromkeys(range(6), 3)
    assert result["closed"] == {}
    sizes = [len(intervention(1, 0, chars=c)) for c in (200, 300_000, 150, 500, 0, 0)]
    assert result["frame_bytes"] == 3 * sum(sizes)
    assert len(result["latencies"]) == 18
    assert all(0 <= latency < 2.0 for latency in result["latencies"]), result["latencies"]
    assert 0 < result["first"] <= result["last"] <= time.monotonic()


async def test_close_codes_and_protocol_errors_are_recorded() -> None:
    async def handler(ws: ServerConnection, index: int) -> None:
        await ws.send(intervention(1, 0))
        await asyncio.sleep(0.2)
        if index == 0:
            await ws.close(4001, "bye")
        elif index == 1:
            ws.transport.abort()  # no close frame: 1006
        else:
            ws.transport.write(raw_frame(intervention(2, 1).encode(), rsv=0x40))
            await ws.wait_closed()

    ready, result, failures = await run_listener(handler, 3, 2, wait_s=1.5)

    assert failures == []
    assert ready["connected"] == 3
    assert result["closed"] == {"4001": 1, "1006": 1, "1002": 1}
    assert result["received"] == 3  # seq 1 on each; the frame with RSV1 set is refused
    assert result["complete"] == 0


async def test_a_refused_upgrade_or_join_fails_the_connection() -> None:
    async def handler(ws: ServerConnection, index: int) -> None:
        await ws.recv()
        reply = "joined" if index == 2 else "error"
        await ws.send(json.dumps({"type": reply, "ref": JOIN_REF}, separators=(",", ":")))
        await ws.wait_closed()

    ready, result, failures = await run_listener(
        handler, 3, 1, wait_s=0.2, join=JOIN, refuse=lambda index: index == 0
    )

    assert failures == []
    assert (ready["connected"], ready["failed"]) == (1, 2), ready
    assert ready["errors"][0] == "connection 0: HTTP/1.1 403 Forbidden"
    assert ready["errors"][1].startswith('connection 1: join refused: {"type":"error"')
    assert result["connections"] == 1 and result["received"] == 0
