"""One WebSocket connection: who is on it, its room and seat, and its delivery. Its
life is a state machine (`forum.ws.lifecycle`).

Delivery: a frame is written at once to a connection that is not behind (nothing
queued, its transport open and under its high-water mark, `forum.ws.direct_send`),
so that an idle or keeping-up connection holds no queue and no task. A connection
behind gets a bounded queue and a sender task, made when it falls behind and dropped
once drained; the sender waits until the transport takes more and writes everything
queued in one go, so its frames still go out in order. A slow client never slows the
room: when its queue is full it is closed with CLOSE_SLOW_CONSUMER and resumes from its
last `seq`. On a server whose transport is not known here every frame takes the queue
and the ASGI `send`. A connection drops any `seq` it already has, so replay on join
plus live delivery never doubles an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket, WebSocketState

from forum.auth import Principal
from forum.connection_caps import Admission
from forum.db.engine import end_read
from forum.db.models import User
from forum.domain.vocabulary import Seat
from forum.wire.frames import ServerFrame
from forum.ws.direct_send import Batch, DirectWire, Outgoing, wire_of
from forum.ws.lifecycle import ENDING, TRANSITIONS, Lifecycle, Phase, TransitionError
from forum.ws.protocol import CLOSE_SLOW_CONSUMER, encode_bytes

if TYPE_CHECKING:
    from forum.ws.hub import Hub

__all__ = ["TRANSITIONS", "Connection", "Lifecycle", "Phase", "TransitionError"]

log = logging.getLogger(__name__)

DEFAULT_STALL_S = 10.0
Item = tuple[int | None, str]


@dataclass(frozen=True, slots=True)
class CloseAfter:
    """Close the connection once the frames queued before it are sent."""

    code: int
    reason: str


# What the send queue holds: one frame, the frames of a join (snapshot and replay) as
# one entry, so that a long replay does not count as a client falling behind, or a
# close that follows the frames queued before it.
Queued = Outgoing | list[Outgoing] | CloseAfter


class Connection:
    """One WebSocket: who is on it (ids only), which room and seat, and its delivery."""

    __slots__ = (
        "id",
        "admission",
        "websocket",
        "user_id",
        "session_id",
        "room_id",
        "seat",
        "watching",
        "last_seq",
        "life",
        "holding",
        "stall_timeout",
        "sending_since",
        "_wire",
        "_pending",
        "_queue_size",
        "_hub",
        "_sender",
    )

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
        # Ids only: the user row, held by every listener for the life of its
        # connection, is a few KiB each; actions read the user afresh.
        self.user_id = principal.user.id if principal else None
        self.session_id = principal.session_id if principal else None
        self.room_id: int | None = None
        self.seat: Seat | None = None
        # A signed-out connection counted among the room's spectators.
        self.watching = False
        self.last_seq = 0
        self.life = Lifecycle(self.id)
        # While joining, live frames wait here until the snapshot and replay are queued.
        self.holding: list[Outgoing] | None = None
        self.stall_timeout = stall_timeout
        # Since when (loop time) the sender has waited to send; None while it is not.
        self.sending_since: float | None = None
        self._wire: DirectWire | None = wire_of(websocket)
        # Only while behind: what waits for the transport, and the task sending it.
        self._pending: deque[Queued] | None = None
        self._queue_size = queue_size
        self._hub = hub
        self._sender: asyncio.Task[None] | None = None

    @property
    def phase(self) -> Phase:
        return self.life.phase

    @property
    def closing(self) -> bool:
        return self.life.closing

    @property
    def wire(self) -> DirectWire | None:
        """The transport frames are written to; None: they are sent through ASGI."""
        return self._wire

    @property
    def hub(self) -> Hub:
        return self._hub

    @property
    def direct(self) -> bool:
        return self._wire is not None

    @property
    def behind(self) -> bool:
        """Whether it has a queue (and a sender) now: it fell behind, or is not direct."""
        return self._pending is not None

    @property
    def queued(self) -> int:
        """Entries waiting in the send queue (0 when it is not behind)."""
        return len(self._pending) if self._pending is not None else 0

    def move(self, wanted: Phase) -> None:
        self.life.move(wanted)

    def begin_closing(self) -> bool:
        """Move to `closing`, unless it is closing already; says whether it moved."""
        if self.closing:
            return False
        self.life.move(Phase.CLOSING)
        return True

    def start(self) -> None:
        """Known to the hub: frames may go out."""
        self.move(Phase.OPEN)

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

    def offer(self, frame: Outgoing) -> None:
        """Send a frame, or queue it (never blocks). `seq` frames it has are dropped."""
        if self.life.phase in ENDING:
            return
        if self.holding is not None:
            self.holding.append(frame)
            if len(self.holding) > self._queue_size:
                self.overflow()
            return
        seq = frame.seq
        if seq is not None:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        wire = self._wire
        if self._pending is None and wire is not None and wire.send(frame.wire):
            return
        if not self._enqueue(frame):
            self.overflow()

    def offer_batch(self, batch: Batch) -> None:
        """Offer a room's frames in order, in one write when it can write now. A
        joining connection, or one that has some of them already, takes them one by one."""
        first = batch.first
        if (
            len(batch.frames) == 1
            or self.holding is not None
            or (first is not None and first <= self.last_seq)
        ):
            for frame in batch.frames:
                self.offer(frame)
            return
        if self.life.phase in ENDING:
            return
        if batch.last is not None:
            self.last_seq = batch.last
        wire = self._wire
        if self._pending is None and wire is not None and wire.send(batch.wire):
            return
        for frame in batch.frames:
            if not self._enqueue(frame):
                self.overflow()
                return

    def push(self, frame: ServerFrame) -> None:
        """Send a frame of this connection's own (hello, ack, error, snapshot)."""
        self.offer(Outgoing(None, encode_bytes(frame)))

    def release(self, first: list[Item], last_seq: int) -> None:
        """End the join: send `first` (snapshot, replay), then what waited meanwhile.

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
        frames = [Outgoing(seq, text.encode()) for seq, text in first]
        wire = self._wire
        if self._pending is None and wire is not None:
            sent = wire.send(b"".join(frame.wire for frame in frames))
        else:
            sent = False
        if not sent and not self._enqueue(frames):
            self.overflow()
            return
        for frame in held:
            self.offer(frame)

    def _enqueue(self, entry: Queued) -> bool:
        """Queue behind what is waiting, starting the sender; False when full."""
        pending = self._pending
        if pending is None:
            pending = self._pending = deque()
        elif len(pending) >= self._queue_size:
            return False
        pending.append(entry)
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_loop(pending), name=f"ws-send-{self.id}")
        return True

    def overflow(self) -> None:
        log.info("closing slow connection %s", self.id)
        self.close_soon(CLOSE_SLOW_CONSUMER, "too slow: resume with since")

    def close_soon(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Close, at once or (`flush`) after what is already queued, such as the
        error frames that explain the close."""
        if not self.begin_closing():
            return
        if flush and self._enqueue(CloseAfter(code, reason)):
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
        sender = self._sender
        if sender is not None and sender is not asyncio.current_task():
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    async def _send_loop(self, pending: deque[Queued]) -> None:
        """Send what is queued until nothing is, then go: the next frame to a
        connection that has caught up is written at once again."""
        loop = asyncio.get_running_loop()
        wire = self._wire
        try:
            while pending:
                if isinstance(pending[0], CloseAfter):
                    close = pending.popleft()
                    assert isinstance(close, CloseAfter)  # noqa: S101 - just checked
                    await self._close(close.code, close.reason)
                    return
                self.sending_since = loop.time()
                if wire is not None:
                    await wire.writable()
                    if not wire.write(b"".join(_wires(pending))):
                        raise ConnectionError("the connection is closing or gone")
                else:
                    await self._send_text(pending)
                self.sending_since = None
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the peer is gone
            self._gone()
        finally:
            self.sending_since = None
            if self._pending is pending:
                self._pending = None
                self._sender = None

    async def _send_text(self, pending: deque[Queued]) -> None:
        """Through ASGI: the next entry of the queue."""
        entry = pending.popleft()
        assert not isinstance(entry, CloseAfter)  # noqa: S101 - the loop takes closes
        for frame in [entry] if isinstance(entry, Outgoing) else entry:
            await self.websocket.send_text(frame.text)

    def _gone(self) -> None:
        # The receive loop may never hear of it (a transport that cannot flush is never
        # reported lost), so the hub forgets the connection now.
        self.begin_closing()
        self._hub.spawn(self._hub.disconnect(self))


async def signed_user(session: AsyncSession, user_id: int) -> User | None:
    """The user on a connection, read for an action that needs the row; the read's
    transaction ended, so that the action's write is the outermost one."""
    user = await session.get(User, user_id)
    await end_read(session)
    return user


def _wires(pending: deque[Queued]) -> list[bytes]:
    """Take every frame queued up to the next close, as bytes for one write."""
    out: list[bytes] = []
    while pending and not isinstance(pending[0], CloseAfter):
        entry = pending.popleft()
        if isinstance(entry, Outgoing):
            out.append(entry.wire)
        elif isinstance(entry, list):
            out.extend(frame.wire for frame in entry)
    return out
