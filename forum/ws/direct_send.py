"""Frames written straight to uvicorn's transport: the one place that knows its insides.

A room event goes to thousands of connections. Through ASGI each copy costs an
`await` of Starlette's `send`, of uvicorn's `send`, and a framing of the same text by
the `websockets` protocol of every connection. Here an event is framed once
(`Outgoing`), and the same bytes are written to every connection's transport, as
`websockets.broadcast()` does for its own server.

Only uvicorn's `websockets-sansio` protocol (the one `Settings.uvicorn_ws_options`
chooses) is written to directly, and only without compression: its frames on the
wire are then exactly an unmasked text frame, and the protocol object keeps no state
about frames it sent (none are fragmented). On any other server, or another uvicorn
protocol, `wire_of` gives None and the connection sends through ASGI as usual.

Writes go in whole frames, synchronously, so they never interleave with the frames
uvicorn writes itself (pings, pongs, the close); a connection writes directly only
while the protocol is open and its transport below its high-water mark
(`DirectWire.ready`), and queues otherwise (`forum.ws.connection`).
"""

from __future__ import annotations

import asyncio
import struct
from asyncio import Transport
from typing import Any

from starlette.websockets import WebSocket, WebSocketState
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

# The ASGI `send` the server gave the application (`forum.app.Forum` keeps it in the
# scope): the bound method of the connection's protocol object.
RAW_SEND = "forum.raw_send"
_TEXT = 0x81  # FIN + opcode 1 (text)
# Looked up once: reading an enum member off its class costs a microsecond on 3.11,
# more than the rest of the check of a connection.
_OPEN = State.OPEN


class Outgoing:
    """One frame as it goes on the wire, encoded and framed once for every listener."""

    __slots__ = ("seq", "wire", "_head")

    def __init__(self, seq: int | None, payload: bytes) -> None:
        self.seq = seq
        size = len(payload)
        if size < 126:
            head = bytes((_TEXT, size))
        elif size < 1 << 16:
            head = struct.pack("!BBH", _TEXT, 126, size)
        else:
            head = struct.pack("!BBQ", _TEXT, 127, size)
        self._head = len(head)
        self.wire = head + payload

    @property
    def text(self) -> str:
        """The payload, for a connection that sends through ASGI."""
        return self.wire[self._head :].decode()


class Batch:
    """Frames of a room offered together: their bytes joined once, for one write to each
    connection that has none of them yet."""

    __slots__ = ("frames", "wire", "first", "last")

    def __init__(self, frames: list[Outgoing]) -> None:
        self.frames = frames
        self.wire = frames[0].wire if len(frames) == 1 else b"".join(f.wire for f in frames)
        seqs = [frame.seq for frame in frames if frame.seq is not None]
        # Room events come in `seq` order; presence frames have none.
        self.first = seqs[0] if seqs else None
        self.last = seqs[-1] if seqs else None


class DirectWire:
    """A uvicorn `websockets-sansio` connection, written to without ASGI."""

    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol
        self._transport = protocol.transport

    def send(self, data: bytes) -> bool:
        """Write `data` now if the connection can take it: open, and its transport
        below the high-water mark, so that the write goes out or waits in a buffer of
        bounded size. False: nothing written, the caller queues. `conn.state` leaves
        OPEN as soon as either side starts closing, so nothing follows a close frame."""
        protocol = self._protocol
        transport = self._transport
        # `ready`, inlined: this runs once per listener per frame.
        if (
            protocol.conn.state is not _OPEN
            or not protocol.writable.is_set()
            or transport.is_closing()
        ):
            return False
        return _write(transport, data)

    def ready(self) -> bool:
        """Whether `send` would write now."""
        protocol = self._protocol
        return (
            protocol.conn.state is _OPEN
            and protocol.writable.is_set()
            and not self._transport.is_closing()
        )

    def write(self, data: bytes) -> bool:
        """Write `data` whatever the buffer holds (the sender, once it may); False when
        the connection is closing or gone."""
        if self._protocol.conn.state is not _OPEN or self._transport.is_closing():
            return False
        return _write(self._transport, data)

    async def writable(self) -> None:
        """Until the transport is back under its low-water mark (or lost)."""
        await self._protocol.writable.wait()


def _write(transport: Transport, data: bytes) -> bool:
    try:
        transport.write(data)
    except Exception:  # noqa: BLE001 - lost under us: one connection, not the room
        return False
    return True


def wire_of(websocket: WebSocket) -> DirectWire | None:
    """The connection's transport if it is of the one kind known here, else None."""
    send = websocket.scope.get(RAW_SEND)
    protocol: Any = getattr(send, "__self__", None)
    if type(protocol) is not WebSocketsSansIOProtocol or protocol.conn.extensions:
        return None
    return DirectWire(protocol)


def release_handshake(websocket: WebSocket) -> None:
    """Let go of what only the handshake needed, once the connection is accepted and
    checked: its request headers, kept in the scope, and uvicorn's own copies of the
    request and the response (`websockets-sansio` reads them only before its
    handshake completes), with the request's headers, which the `websockets` parser
    would keep. A listener holds nothing of its handshake for hours.

    The protocol's receive queue and its `writable` event, an `asyncio.Queue` and an
    `asyncio.Event`, are four and one deques of 760 bytes each; they become `Inbound`
    and `Flag`, which do what the protocol asks of them with a list made only while
    someone waits. Nothing waits on either here: this runs in the connection's own
    task, the only one that reads, before its sender exists."""
    if websocket.application_state is not WebSocketState.CONNECTED:
        return
    websocket.scope["headers"] = ()
    protocol: Any = getattr(websocket.scope.get(RAW_SEND), "__self__", None)
    if type(protocol) is not WebSocketsSansIOProtocol or not protocol.handshake_complete:
        return
    kept = vars(protocol)
    request = kept.pop("request", None)
    kept.pop("response", None)
    if request is not None:
        # The `websockets` parser keeps the request in its generator's frame for the
        # connection's life: its headers, at least, go.
        request.headers.clear()
    queue: Any = protocol.queue
    if type(queue) is asyncio.Queue and not vars(queue)["_getters"]:
        kept["queue"] = Inbound(list(vars(queue)["_queue"]))
    writable: Any = protocol.writable
    if type(writable) is asyncio.Event and not writable._waiters:
        kept["writable"] = Flag(writable.is_set())


class Inbound:
    """What uvicorn's protocol asks of its receive queue (`put_nowait`, `get`, `empty`),
    for one reader: the connection's task."""

    __slots__ = ("_items", "_waiter")

    def __init__(self, items: list[Any]) -> None:
        self._items = items
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class Flag:
    """`asyncio.Event` as uvicorn's protocol and `DirectWire` use it: `is_set`, `set`,
    `clear`, `wait`; every waiter woken by a `set`, as `asyncio.Event` wakes them."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool) -> None:
        self._value = value
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if self._value:
            return
        self._value = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        waiters = self._waiters
        if waiters is None:
            waiters = self._waiters = []
        waiters.append(waiter)
        try:
            await waiter
        finally:
            # `set` hands the list over as it wakes it; a cancelled waiter leaves it.
            if waiter in waiters:
                waiters.remove(waiter)
        return True
