"""One WebSocket connection: its life as a state machine, and its send queue.

A connection's life, in one place (`TRANSITIONS`):

    handshake -> open -> joining -> live -> closing -> closed

and back: joining -> open (a join refused once under way), live -> open (the room
left), live -> joining (a join from the room it is in).

- `handshake`: accepted, its Origin, credentials and caps checked, not yet known to
  the hub;
- `open`: the hub knows it and `hello` is sent; it is in no room;
- `joining`: entering a room; the room's live frames are held until the snapshot and
  replay are queued (`release`), so that nothing arrives before what it follows;
- `live`: in a room, frames delivered as they come;
- `closing`: nothing more is queued; the close is under way (or the peer is gone);
- `closed`: the hub has forgotten it: no room, no seat, no sender, its slot given back.

Every state before `closing` may go to it. Any other move is a bug, and `move`
raises `TransitionError` rather than let a connection be, say, live in a room
while closing.

The send queue is bounded and drained by a task of the connection's own, so a slow
client never slows the room: when its queue is full it is closed with
CLOSE_SLOW_CONSUMER and resumes from its last `seq`. A connection drops any `seq` it
already has, so replay on join plus live delivery never doubles an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket, WebSocketState

from forum.auth import Principal
from forum.connection_caps import Admission
from forum.domain.vocabulary import Seat
from forum.wire.frames import ServerFrame
from forum.ws.protocol import CLOSE_SLOW_CONSUMER, encode

if TYPE_CHECKING:
    from forum.ws.hub import Hub

log = logging.getLogger(__name__)

DEFAULT_STALL_S = 10.0
Item = tuple[int | None, str]


class Phase(enum.Enum):
    HANDSHAKE = "handshake"
    OPEN = "open"
    JOINING = "joining"
    LIVE = "live"
    CLOSING = "closing"
    CLOSED = "closed"


TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.HANDSHAKE: frozenset({Phase.OPEN, Phase.CLOSING}),
    Phase.OPEN: frozenset({Phase.JOINING, Phase.CLOSING}),
    Phase.JOINING: frozenset({Phase.LIVE, Phase.OPEN, Phase.CLOSING}),
    Phase.LIVE: frozenset({Phase.JOINING, Phase.OPEN, Phase.CLOSING}),
    Phase.CLOSING: frozenset({Phase.CLOSED}),
    Phase.CLOSED: frozenset(),
}


class TransitionError(RuntimeError):
    """A connection asked to move where its life does not go: a bug."""

    def __init__(self, connection_id: str, current: Phase, wanted: Phase) -> None:
        super().__init__(f"connection {connection_id}: {current.value} -> {wanted.value}")
        self.current = current
        self.wanted = wanted


class Lifecycle:
    """Where a connection is in its life; every move checked against TRANSITIONS."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.phase = Phase.HANDSHAKE

    def move(self, wanted: Phase) -> None:
        if wanted not in TRANSITIONS[self.phase]:
            raise TransitionError(self.owner, self.phase, wanted)
        self.phase = wanted

    @property
    def closing(self) -> bool:
        return self.phase in (Phase.CLOSING, Phase.CLOSED)


@dataclass(frozen=True)
class CloseAfter:
    """Close the connection once the frames queued before it are sent."""

    code: int
    reason: str


# What the send queue holds: one frame, the frames of a join (snapshot and replay) as
# one entry, so that a long replay does not count as a client falling behind, or a
# close that follows the frames queued before it.
Queued = str | list[str] | CloseAfter


class Connection:
    """One WebSocket: who is on it, which room and seat, and its send queue."""

    def __init__(
        self,
        websocket: WebSocket,
        principal: Principal | None,
        *,
        queue_size: int,
        hub: Hub,
        stall_timeout: float = DEFAULT_STALL_S,
        admission: Admission | None = None,
    ) -> None:
        self.id = str(uuid.uuid4())
        # Its slots under the connection caps, given back when the hub forgets it.
        self.admission = admission
        self.websocket = websocket
        self.principal = principal
        self.room_id: int | None = None
        self.seat: Seat | None = None
        # A signed-out connection counted among the room's spectators.
        self.watching = False
        self.last_seq = 0
        self.life = Lifecycle(self.id)
        # While joining, live frames wait here until the snapshot and replay are queued.
        self.holding: list[Item] | None = None
        self._queue: asyncio.Queue[Queued] = asyncio.Queue(maxsize=queue_size)
        self._queue_size = queue_size
        self._hub = hub
        self._sender: asyncio.Task[None] | None = None
        self.stall_timeout = stall_timeout
        # When the send in progress began (loop time); None while nothing is being sent.
        self.sending_since: float | None = None

    @property
    def phase(self) -> Phase:
        return self.life.phase

    @property
    def closing(self) -> bool:
        return self.life.closing

    def move(self, wanted: Phase) -> None:
        self.life.move(wanted)

    def begin_closing(self) -> bool:
        """Move to `closing`, unless it is closing already; says whether it moved."""
        if self.closing:
            return False
        self.life.move(Phase.CLOSING)
        return True

    def start(self) -> None:
        """Known to the hub: start sending."""
        self.move(Phase.OPEN)
        self._sender = asyncio.create_task(self._send_loop(), name=f"ws-send-{self.id}")

    def start_joining(self) -> None:
        """Hold the room's live frames until `release` queues the snapshot before them."""
        self.move(Phase.JOINING)
        self.holding = []

    def join_failed(self) -> None:
        """A join that failed under way (the database gone): stop holding frames. The
        client, told of the failure, joins again."""
        if self.phase is Phase.JOINING:
            self.holding = None
            self.move(Phase.LIVE if self.room_id is not None else Phase.OPEN)

    def left_room(self) -> None:
        """Out of its room (delivery stopped); a closing connection stays closing."""
        if self.phase in (Phase.LIVE, Phase.JOINING):
            self.move(Phase.OPEN)

    def offer(self, seq: int | None, text: str) -> None:
        """Queue a frame (never blocks). `seq` frames this connection has are dropped."""
        if self.closing:
            return
        if self.holding is not None:
            self.holding.append((seq, text))
            if len(self.holding) > self._queue_size:
                self.overflow()
            return
        if seq is not None:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflow()

    def push(self, frame: ServerFrame) -> None:
        """Queue a frame of this connection's own (hello, ack, error, snapshot)."""
        self.offer(None, encode(frame))

    def release(self, first: list[Item], last_seq: int) -> None:
        """End the join: queue `first` (snapshot, replay), then what waited meanwhile.

        The client has everything up to `last_seq` once `first` is sent, so held
        frames at or below it are dropped.
        """
        held, self.holding = self.holding or [], None
        if self.closing:
            return
        # A connection that left the room while joining (a change of standing) still
        # hears the join, then the `left` held behind it.
        if self.phase is Phase.JOINING:
            self.move(Phase.LIVE)
        # A new room (or a resume from an earlier `since`) starts the count afresh.
        self.last_seq = last_seq
        try:
            self._queue.put_nowait([text for _seq, text in first])
        except asyncio.QueueFull:
            self.overflow()
            return
        for seq, text in held:
            self.offer(seq, text)

    def overflow(self) -> None:
        log.info("closing slow connection %s", self.id)
        self.close_soon(CLOSE_SLOW_CONSUMER, "too slow: resume with since")

    def close_soon(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Close, at once or (`flush`) after what is already queued, such as the
        error frames that explain the close."""
        if not self.begin_closing():
            return
        if flush:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(CloseAfter(code, reason))
                return
        self._hub.spawn(self._close(code, reason))

    async def flushed(self) -> None:
        """Wait (at most the stall timeout) for the sender to finish a flushing close."""
        if self._sender is not None and not self._sender.done():
            await asyncio.wait({self._sender}, timeout=self.stall_timeout)

    async def _close(self, code: int, reason: str) -> None:
        await self.stop_sender()
        if self.websocket.application_state is WebSocketState.CONNECTED:
            # The close frame waits behind what the peer has not read; the watchdog
            # drops the peer if it never reads it.
            self.sending_since = asyncio.get_running_loop().time()
            with contextlib.suppress(Exception):
                await self.websocket.close(code, reason)
            self.sending_since = None

    def stalled(self, now: float) -> bool:
        return self.sending_since is not None and now - self.sending_since > self.stall_timeout

    async def stop_sender(self) -> None:
        if self._sender is not None and self._sender is not asyncio.current_task():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                queued = await self._queue.get()
                if isinstance(queued, CloseAfter):
                    await self._close(queued.code, queued.reason)
                    return
                for text in [queued] if isinstance(queued, str) else queued:
                    self.sending_since = loop.time()
                    await self.websocket.send_text(text)
                    self.sending_since = None
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the peer is gone
            # The receive loop may never hear of it (a transport that cannot flush is
            # never reported lost), so the hub forgets the connection now.
            self.begin_closing()
            self._hub.spawn(self._hub.disconnect(self))
