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

import struct
from asyncio import Transport
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

# The ASGI `send` the server gave the application, before Starlette wraps it: the
# bound method of the connection's protocol object.
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


class RawSend:
    """ASGI middleware, outermost: keeps the server's own `send` in the scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        await self.app(scope, receive, send)
