"""A WebSocket connection's life as a state machine.

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
"""

from __future__ import annotations

import enum


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


# A tuple: members are found by identity, an enum's hash is a Python call.
ENDING = (Phase.CLOSING, Phase.CLOSED)


class TransitionError(RuntimeError):
    """A connection asked to move where its life does not go: a bug."""

    def __init__(self, connection_id: str, current: Phase, wanted: Phase) -> None:
        super().__init__(f"connection {connection_id}: {current.value} -> {wanted.value}")
        self.current = current
        self.wanted = wanted


class Lifecycle:
    """Where a connection is in its life; every move checked against TRANSITIONS."""

    __slots__ = ("owner", "phase")

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.phase = Phase.HANDSHAKE

    def move(self, wanted: Phase) -> None:
        if wanted not in TRANSITIONS[self.phase]:
            raise TransitionError(self.owner, self.phase, wanted)
        self.phase = wanted

    @property
    def closing(self) -> bool:
        return self.phase in ENDING
