"""The frames the server sends over `/ws` besides the room's events.

`SERVER_FRAMES` names each by its `type`; docs/protocol.md lists the same types in
its table of server frames (tests/test_wire_docs.py). A room event is sent as it is
stored (`forum.wire.events`), under its own `type` (`session`, `queue`, `floor`...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

from forum.wire.events import PresenceUpdate
from forum.wire.room import PresenceSnapshot, RoomState

# A client's `ref`, echoed in whatever answers its frame (forum/ws/protocol.py checks it).
Ref = str | int


class Hello(TypedDict):
    """The first frame: who the connection is (None signed out) and the server's clock."""

    type: Literal["hello"]
    user: Mapping[str, object] | None
    server_time: str
    max_frame_bytes: int


class Joined(TypedDict):
    """The answer to `join`: the state at `seq` (None with `since`: `replay` events
    follow), and a fresh presence snapshot."""

    type: Literal["joined"]
    room: int
    seat: str
    seq: int
    state: RoomState | None
    presence: PresenceSnapshot
    replay: int
    ref: NotRequired[Ref]


class Ack(TypedDict):
    """A frame's change is committed; `seq` the event it wrote, when it wrote one."""

    type: Literal["ack"]
    ref: NotRequired[Ref]
    seq: NotRequired[int]


class Pong(TypedDict):
    type: Literal["pong"]
    ref: NotRequired[Ref]


class Left(TypedDict):
    """Out of the room: asked (`leave`), or unasked with the `reason` (`standing`,
    `window`) when a change of standing or the end of a window ended the seat."""

    type: Literal["left"]
    room: int
    reason: NotRequired[str | None]


class SeatChanged(TypedDict):
    """The seat this connection now holds after a change of standing, unasked."""

    type: Literal["seat"]
    room: int
    seat: str
    role: str | None
    chair: bool
    reason: str | None


class ErrorFrame(TypedDict):
    """A refusal: nothing was written. `ForumError.body` gives `code` and `message`, and
    `field`, `retry_after_ms` and the error's own details when it has them."""

    type: Literal["error"]
    code: str
    message: str
    field: NotRequired[str]
    retry_after_ms: NotRequired[int]
    ref: NotRequired[Ref]


class LiveEquity(TypedDict):
    """The open session's equity figures so far (forum/actions/equity_reads.py)."""

    session_id: int
    seq: int
    equity: dict[str, Any]


class Equity(LiveEquity):
    """The answer to the chair's `get_equity`."""

    type: Literal["equity"]
    room: int
    ref: NotRequired[Ref]


ServerFrame = (
    Hello | Joined | Ack | Pong | Left | SeatChanged | ErrorFrame | Equity | PresenceUpdate
)

SERVER_FRAMES: dict[str, type[Any]] = {
    "hello": Hello,
    "joined": Joined,
    "ack": Ack,
    "pong": Pong,
    "left": Left,
    "seat": SeatChanged,
    "error": ErrorFrame,
    "equity": Equity,
    "presence": PresenceUpdate,
}
"""Every frame of the server's own (not a room event), by `type`."""
