"""The frames a connection has read, waiting their turn.

uvicorn stops reading a socket after each message until the application asks for the
next one, so a connection that read only between actions, and whose action waits on the
database for longer than the ping timeout, would never see the answer to the server's
ping and be closed 1011, with the frames it sent after it. So the connection's task
reads, and the frames wait in a small inbox, handled one at a time, in order, by a task
that exists only while there are frames to handle: an idle connection has one task. A
full inbox stops the reading until there is room, which holds the client's sends back
and drops nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from starlette.websockets import WebSocketDisconnect

from forum.ws.connection import Connection

# Frames read and not yet handled. With 16 KiB frames that is at most 256 KiB a
# connection; a client within the frame rate limit rarely has more than a few waiting.
INBOX_FRAMES = 16
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INTERNAL_ERROR = 1011
log = logging.getLogger(__name__)


class Inbox:
    """The receive loop of one connection; `handle` is what a frame does."""

    __slots__ = ("connection", "inbox", "handler", "room")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        # Only while there are frames to handle: an empty deque is most of a kilobyte.
        self.inbox: deque[str] | None = None
        self.handler: asyncio.Task[None] | None = None
        # Set while the reading waits for room in a full inbox.
        self.room: asyncio.Future[None] | None = None

    async def handle(self, text: str) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        """Read until the peer goes or sends binary; what was read before is handled."""
        websocket = self.connection.websocket
        binary = False
        try:
            while True:
                try:
                    message = await websocket.receive()
                except (WebSocketDisconnect, RuntimeError):
                    break
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    binary = True
                    break
                await self.take(text)
            if self.handler is not None:
                await asyncio.shield(self.handler)
        finally:
            if self.handler is not None:
                self.handler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.handler
        if binary and not self.connection.closing:
            await websocket.close(CLOSE_UNSUPPORTED_DATA, "frames are JSON text")
        await self.connection.flushed()

    async def take(self, text: str) -> None:
        """Put a frame in the inbox; a full one stops the reading until there is room."""
        if self.connection.closing:
            return  # nothing more is answered
        if self.inbox is None:
            self.inbox = deque()
        inbox = self.inbox
        inbox.append(text)
        if self.handler is None:
            # Counted until its inbox is empty: the rooms' delivery gives way meanwhile.
            self.connection.hub.load.handling += 1
            self.handler = asyncio.create_task(
                self.handle_all(inbox), name=f"ws-handle-{self.connection.id}"
            )
            self.handler.add_done_callback(self._handled)
        while len(inbox) >= INBOX_FRAMES:
            self.room = asyncio.get_running_loop().create_future()
            await self.room

    def _handled(self, _task: asyncio.Task[None]) -> None:
        self.connection.hub.load.handling -= 1

    async def handle_all(self, inbox: deque[str]) -> None:
        try:
            while inbox and not self.connection.closing:
                text = inbox.popleft()
                if self.room is not None and not self.room.done():
                    self.room.set_result(None)
                await self.handle(text)
        except Exception:
            # A bug, not the client's doing: the connection cannot be trusted to be
            # in a state its next frame expects.
            log.exception("a frame failed on connection %s", self.connection.id)
            self.connection.close_soon(CLOSE_INTERNAL_ERROR, "internal error")
        finally:
            self.handler = None
            if self.connection.closing:
                inbox.clear()
            if not inbox and self.inbox is inbox:
                self.inbox = None
            if self.room is not None and not self.room.done():
                self.room.set_result(None)
