"""The messages of the room and user channels: numbered room events, presence updates,
and what a person's own channel tells their connections.

A room event is stored as `room_events` (type, op, data) and sent as its data with
the header (`EventHeader`) laid over it (`RoomEvent.wire`). Each `type`/`op` has one
shape of data below, and `ROOM_EVENTS` names it: docs/protocol.md's table of room
events lists the same pairs (tests/test_wire_docs.py).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from forum.wire.room import (
    Budgets,
    Ended,
    Floor,
    ObserverSeats,
    PresenceLeft,
    PresenceUser,
    QueueItem,
    SessionInfo,
    SpectatorCount,
    Spoken,
)


class EventHeader(TypedDict):
    """What every room event carries over its data."""

    type: str
    op: str
    room: int
    seq: int
    actor: int | None
    at: str


# -- session ----------------------------------------------------------------------


class SessionScheduled(TypedDict):
    """`session`/`schedule` and `session`/`edit`: the scheduled session as it is now."""

    scheduled: SessionInfo


class SessionOpened(TypedDict):
    session: SessionInfo
    queue: list[QueueItem]
    floor: None
    spoken: Spoken
    budgets: Budgets


class SessionClosed(TypedDict):
    session: None
    closed: SessionInfo
    queue: list[QueueItem]
    floor: None
    spoken: Spoken
    budgets: Budgets
    ended: Ended | None


class SessionCancelled(TypedDict):
    cancelled: SessionInfo


# -- queue ------------------------------------------------------------------------


class HandRaised(TypedDict):
    user_id: int
    queue: list[QueueItem]


class HandLowered(TypedDict):
    user_id: int
    queue: list[QueueItem]
    # `standing` when a change of standing took the hand down.
    reason: NotRequired[str]


class HandsLowered(TypedDict):
    """`queue`/`lower_all`: the hands lowered, in queue order."""

    user_ids: list[int]
    queue: list[QueueItem]


class HandMoved(TypedDict):
    user_id: int
    position: int
    queue: list[QueueItem]


# -- floor ------------------------------------------------------------------------


class FloorGiven(TypedDict):
    floor: Floor
    queue: list[QueueItem]
    spoken: Spoken
    previous: int | None
    ended: Ended | None
    budgets: Budgets
    note: str | None


class FloorTaken(TypedDict):
    floor: None
    user_id: int | None
    name: str | None
    # `chair`, `expired`, `standing` or `window`.
    reason: str
    ended: Ended | None
    queue: list[QueueItem]
    budgets: Budgets


class FloorClock(TypedDict):
    """`floor`/`pause` and `floor`/`resume`: the turn with its clock held or running."""

    floor: Floor


class FloorExtended(TypedDict):
    floor: Floor
    seconds: int


class FloorBudgets(TypedDict):
    session_id: int
    family_budgets: dict[str, int]
    # The floor as it is, so that a worker's timer for the running turn stays set.
    floor: Floor | None
    # Only for the open session.
    budgets: NotRequired[Budgets]
    queue: NotRequired[list[QueueItem]]


class VoiceTurn(TypedDict):
    """`floor`/`voice`: a turn taken in the session's conference, recorded by the chair."""

    user_id: int
    name: str
    family: str
    seat: str
    duration_s: int | None
    queue: list[QueueItem]
    spoken: Spoken
    budgets: Budgets


# -- room, interventions, meetings, windows -----------------------------------------


class PolicySet(TypedDict):
    queue_policy: str
    queue: list[QueueItem]


class SeatsSet(TypedDict):
    observer_seats: ObserverSeats


class Intervention(TypedDict):
    user_id: int
    name: str
    family: str
    seat: str
    body: str
    on_floor: bool


class ConsultationInfo(TypedDict):
    status: str
    awaiting: int | None
    seats_per_side: int
    short_notice: bool
    decline_reason: str
    counter_starts_at: str | None
    counter_ends_at: str | None


class ConsultationChanged(TypedDict):
    meeting: int
    consultation: ConsultationInfo
    # `delegation` only: the side (group id) and the delegates it named.
    side: NotRequired[int]
    delegates: NotRequired[list[int]]


class MeetingOutcome(TypedDict):
    meeting: int
    outcome_html: str


class WindowInfo(TypedDict):
    id: int
    session: int
    starts_at: str
    ends_at: str
    offset_s: int | None
    families: list[str]
    groups: list[int]
    seat: str
    after: str
    ended: bool


class WindowSet(TypedDict):
    window: WindowInfo


class WindowRemoved(TypedDict):
    """`window`/`remove`: the window's id."""

    window: int


class Moved(TypedDict):
    user_id: int
    name: str
    # The seat they hold now, or None: out of the room.
    seat: str | None


class WindowEnded(TypedDict):
    window: int
    moved: list[Moved]


RoomEventData = (
    SessionScheduled
    | SessionOpened
    | SessionClosed
    | SessionCancelled
    | HandRaised
    | HandLowered
    | HandsLowered
    | HandMoved
    | FloorGiven
    | FloorTaken
    | FloorClock
    | FloorExtended
    | FloorBudgets
    | VoiceTurn
    | PolicySet
    | SeatsSet
    | Intervention
    | ConsultationChanged
    | MeetingOutcome
    | WindowSet
    | WindowRemoved
    | WindowEnded
)

ROOM_EVENTS: dict[tuple[str, str], type[Any]] = {
    ("session", "schedule"): SessionScheduled,
    ("session", "edit"): SessionScheduled,
    ("session", "open"): SessionOpened,
    ("session", "close"): SessionClosed,
    ("session", "cancel"): SessionCancelled,
    ("queue", "raise"): HandRaised,
    ("queue", "lower"): HandLowered,
    ("queue", "lower_all"): HandsLowered,
    ("queue", "move"): HandMoved,
    ("floor", "give"): FloorGiven,
    ("floor", "take"): FloorTaken,
    ("floor", "pause"): FloorClock,
    ("floor", "resume"): FloorClock,
    ("floor", "extend"): FloorExtended,
    ("floor", "budgets"): FloorBudgets,
    ("floor", "voice"): VoiceTurn,
    ("room", "policy"): PolicySet,
    ("room", "seats"): SeatsSet,
    ("intervention", "post"): Intervention,
    ("consultation", "propose"): ConsultationChanged,
    ("consultation", "accept"): ConsultationChanged,
    ("consultation", "decline"): ConsultationChanged,
    ("consultation", "counter"): ConsultationChanged,
    ("consultation", "delegation"): ConsultationChanged,
    ("meeting", "outcome"): MeetingOutcome,
    ("window", "set"): WindowSet,
    ("window", "remove"): WindowRemoved,
    ("window", "end"): WindowEnded,
}
"""Every room event there is, by `type`/`op`: the shape of its data."""


# -- the room channel besides events: presence -----------------------------------------


class PresenceUpdate(TypedDict):
    """Who came, moved or went (not numbered by `seq`): published by the actions on
    the room channel and sent, gathered for 100 ms, as the `presence` frame."""

    type: Literal["presence"]
    op: Literal["update"]
    room: int
    users: list[PresenceUser]
    left: list[PresenceLeft]
    spectators: NotRequired[SpectatorCount]


# -- a person's own channel ---------------------------------------------------------


class SessionEnded(TypedDict):
    """The person signed out (or was signed out): their sockets of it close."""

    type: Literal["session"]
    op: Literal["ended"]
    session_id: int


class SeatNotice(TypedDict):
    """A change of standing reseated or unseated the person's connections in a room:
    each named connection now holds the seat given, or none."""

    type: Literal["seat"]
    # What changed the seat: `standing` or `window`.
    op: str
    room: int
    role: str | None
    chair: bool
    connections: dict[str, str | None]


class MembershipChanged(TypedDict):
    type: Literal["membership"]
    op: Literal["update"]
    group: str
    role: str | None


UserMessage = SessionEnded | SeatNotice | MembershipChanged
