"""A room flooded with events, on a real uvicorn server: the writers' acks do not wait
for the room's delivery, a reader that stops reading is cut with 4000 and resumes with
`since` getting everything, and the readers that read lose nothing.

The load is a few hundred listeners on raw sockets that read everything and parse
nothing (so that the clients, in this process, cost less than the server), a fast
writer committing interventions straight through the action, and writers speaking over
their own WebSockets, each waiting for its ack before the next."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from websockets.frames import Frame, Opcode

from forum.limits import MemoryRateLimiter
from forum.ws.delivery import DELIVERY_CHUNK
from forum.ws.protocol import CLOSE_SLOW_CONSUMER
from tests.factory import GROUP
from tests.people import Person, person
from tests.rooms_support import Peer, peer, schedule_and_open
from tests.support import LiveServer
from tests.test_ws_delivery import chair_says, drain, server_with, small_window_peer
from tests.test_ws_direct import until

LOAD = DELIVERY_CHUNK + 100  # above the chunk: the room's pump delivers
WRITERS = 4
SPOKEN = 8
FLOOD_BODY = "flood " + "x" * 2000


@asynccontextmanager
async def reading_socket(server: LiveServer, who: Person) -> AsyncIterator[list[int]]:
    """A listener seated in the room that reads every byte and parses none."""
    port = int(server.ws_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    headers = "".join(f"{name}: {value}\r\n" for name, value in who.headers(server).items())
    writer.write(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{headers}\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    join = json.dumps({"type": "join", "room": GROUP, "seat": "remote"}).encode()
    writer.write(Frame(Opcode.TEXT, join).serialize(mask=True, extensions=[]))
    received = [0]

    async def read() -> None:
        while chunk := await reader.read(1 << 16):
            received[0] += len(chunk)

    task = asyncio.create_task(read())
    try:
        yield received
    finally:
        task.cancel()
        writer.close()


async def keep_reading(p: Peer) -> None:
    while True:
        await p.next(wait=60)


async def speak_all(writer: Peer, label: str) -> list[float]:
    """Seconds from each `speak` to its ack, one after the other."""
    loop = asyncio.get_running_loop()
    latencies = []
    for n in range(SPOKEN):
        began = loop.time()
        answer = await writer.call({"type": "speak", "body": f"{label} {n}"}, wait=60)
        assert answer["type"] == "ack", answer
        latencies.append(loop.time() - began)
    return latencies


async def acks(writers: list[Peer], label: str) -> float:
    """The median ack latency of every writer speaking at once."""
    done = await asyncio.gather(*(speak_all(w, f"{label} {i}") for i, w in enumerate(writers)))
    return statistics.median(x for latencies in done for x in latencies)


async def test_a_flooded_room_acks_its_writers_and_cuts_only_the_reader_that_stopped(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    async with server_with(
        sqlite_url,
        tmp_path,
        limiter,
        ws_send_queue=16,
        send_buffer=8192,
        max_connections_per_account=LOAD + 10,
        post_limit=100_000,
        ws_frames_per_window=100_000,
        ws_ping_interval=60.0,
        ws_ping_timeout=60.0,
    ) as server:
        chair = await person(server, role="chair")
        load = await person(server, role="member")
        slow_one = await person(server, role="member")
        fast_one = await person(server, role="member")
        speakers = [await person(server, role="member") for _ in range(WRITERS)]
        await schedule_and_open(chair, fmt="open_debate")
        hub = server.state["hub"]
        async with AsyncExitStack() as stack:
            readers = [
                await stack.enter_async_context(reading_socket(server, load)) for _ in range(LOAD)
            ]
            fast = await stack.enter_async_context(peer(server, fast_one))
            slow = await stack.enter_async_context(small_window_peer(server, slow_one))
            writers = [await stack.enter_async_context(peer(server, p)) for p in speakers]
            start = (await fast.join("remote"))["seq"]
            await slow.join("remote")
            for w in writers:
                await w.join("participant")
            (fanout,) = hub.rooms.values()
            await until(lambda: len(fanout.connections) == LOAD + 2 + WRITERS, wait=60)
            reading = [asyncio.create_task(keep_reading(fast))]
            quiet = await acks(writers, "quiet")

            # The flood: a writer committing as fast as it can, its events to every
            # listener, while the others speak and one listener stops reading.
            slow_connection = next(c for c in hub.connections if c.user_id == slow_one.id)
            slow.ws.transport.pause_reading()
            flooding = True

            async def flood() -> list[int]:
                said: list[int] = []
                while flooding or not slow_connection.closing:
                    said += await chair_says(server, chair, [f"{len(said)} {FLOOD_BODY}"])
                    assert len(said) < 5000, "the reader that stopped was never cut"
                return said

            flooder = asyncio.create_task(flood())
            await asyncio.sleep(0.2)
            busy = await acks(writers, "busy")
            reading += [asyncio.create_task(keep_reading(w)) for w in writers]
            flooding = False
            said = await flooder
            last = max(said)

            # Acks under the flood stay within a generous bound of the quiet room's.
            assert busy < max(10 * quiet, 1.0), (busy, quiet)
            # The reader that read lost nothing, in order; the load listeners are there.
            await until(lambda: any(f.get("seq") == last for f in fast.events()), wait=60)
            for task in reading:
                task.cancel()
            seqs = [f["seq"] for f in fast.events()]
            assert seqs == list(range(start + 1, last + 1))
            assert not any(c.closing for c in fanout.connections if c is not slow_connection)
            assert all(received[0] > 0 for received in readers)

            # The one that stopped reading was cut with 4000 and resumes with `since`.
            slow.ws.transport.resume_reading()
            await drain(slow)
            assert slow.ws.close_code == CLOSE_SLOW_CONSUMER
            got = [f["seq"] for f in slow.events()]
            assert got == list(range(start + 1, start + 1 + len(got)))
            since = got[-1] if got else start
            async with peer(server, slow_one) as again:
                resumed = await again.join("remote", since=since)
                assert resumed["state"] is None and resumed["replay"] == last - since
                while not any(f.get("seq") == last for f in again.events()):
                    await again.next(wait=30)
                assert [f["seq"] for f in again.events()] == list(range(since + 1, last + 1))
