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
    handshake completes). A listener holds nothing of its handshake for hours."""
    if websocket.application_state is not WebSocketState.CONNECTED:
        return
    websocket.scope["headers"] = ()
    protocol: Any = getattr(websocket.scope.get(RAW_SEND), "__self__", None)
    if type(protocol) is WebSocketsSansIOProtocol and protocol.handshake_complete:
        kept = vars(protocol)
        kept.pop("request", None)
        kept.pop("response", None)
