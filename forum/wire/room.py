"""A room's live state: as its JSON columns hold it and as frames and events carry it.

The room row stores the queue, the floor and the tallies in the very shape clients
receive (`forum.actions.room_state` is the codec to the domain's types), so one
definition serves the column and the wire. Families, seats and policies are the
values of the domain's enums (`forum.domain.vocabulary`, `forum.domain.speaking`),
kept as plain strings here: JSON holds strings, and rows written before a value was
added must still read.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


class Person(TypedDict):
    """How a person appears in room frames and transcripts."""

    user_id: int
    name: str
    family: str
    organization: str
    country: str


class QueueItem(TypedDict):
    """One request to speak (`rooms.queue`, `queue[]`), in the order it would be called."""

    user_id: int
    name: str
    family: str
    seat: str
    # Its place in the order hands went up: 0, 1, 2... within the session.
    raised: int
    point_of_order: bool
    note: str | None
    # `north`, `south`, or None for a country of neither list (forum/domain/regions.py).
    region_side: str | None
    out_of_time: bool
    # Only in a consultation's room: the group id of the speaker's side.
    side: NotRequired[int]


class Floor(TypedDict):
    """The turn on the floor (`rooms.floor`, `floor`). While paused, `ends_at` is None
    and `left_s` is the time kept; `turn` is the seq of the event that gave it."""

    user_id: int
    name: str
    family: str
    started_at: str
    limit_s: int | None
    extended_s: int
    ends_at: str | None
    turn: int
    point_of_order: bool
    paused_at: str | None
    paused_s: float
    left_s: int | None


class Ended(TypedDict):
    """The turn an event ended (`ended`): whole seconds spoken, pauses left out."""

    user_id: int
    name: str | None
    family: str
    spoken_s: int
    point_of_order: bool


class Budget(TypedDict):
    """One budgeted family's speaking time (`budgets[family]`), ended turns counted."""

    budget_s: int
    used_s: int
    left_s: int


class FloorTally(TypedDict, total=False):
    """`rooms.floor_tally`: the open session's budgets, the seconds each family used,
    turns by north and south. Empty (`{}`) between sessions."""

    budgets: dict[str, int]
    used_s: dict[str, float]
    sides: dict[str, int]


# `rooms.spoken`: turns given per family this session (points of order left out).
Spoken = dict[str, int]
# `rooms.side_turns`: turns given to each side of a consultation, by side group id.
SideTurns = dict[str, int]
# `rooms.observer_seats`: observer seats per family (forum/domain/seats.py).
ObserverSeats = dict[str, int]
# `budgets`: each budgeted family's time (forum/actions/floor_state.py).
Budgets = dict[str, Budget]


class SessionInfo(TypedDict):
    """A session as events and the state carry it; never its conference link."""

    id: int
    room: int
    title: str
    agenda: str
    agenda_html: str
    format: str
    status: str
    starts_at: str
    ends_at: str
    opened_at: str | None
    closed_at: str | None


class RoomState(TypedDict):
    """The room at `seq` (`joined.state`); the events after `seq` apply to it."""

    room: int
    group: str
    name: str
    seq: int
    session: SessionInfo | None
    queue_policy: str
    observer_seats: ObserverSeats
    queue: list[QueueItem]
    floor: Floor | None
    spoken: Spoken
    budgets: Budgets


class PresenceUser(Person):
    """One person in the room, on the seat of their latest connection."""

    seat: str
    remote: bool
    observer: bool
    ver: int


class PresenceLeft(TypedDict):
    user_id: int
    ver: int


class PresenceGone(PresenceLeft):
    """Someone who left, as a hub keeps them beside those who came until it sends
    the update it gathers (forum/ws/hub.py)."""

    left: Literal[True]


class SpectatorCount(TypedDict):
    count: int
    ver: int


class PresenceSnapshot(TypedDict):
    """Everyone in the room at version `ver` (`joined.presence`)."""

    ver: int
    users: list[PresenceUser]
    spectators: int


class StateWithPresence(RoomState):
    """`GET /api/rooms/{slug}/state`: the state and who is in the room."""

    presence: PresenceSnapshot
