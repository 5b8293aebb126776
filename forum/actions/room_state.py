"""A room's live state as it is kept on the room row and sent on the wire.

The codec between the JSON columns of `rooms` (queue, floor, spoken, observer seats)
and the domain's types, and the wire form of a room's state and sessions. It reads
nothing and writes nothing: actions and reads both build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from forum.actions.floor_state import budgets_wire, exhausted_of, sides_of
from forum.db.base import utcnow
from forum.db.models import Group, Room, RoomSession, User
from forum.domain.calendars import CalendarFacts, next_sequence
from forum.domain.floor import call_order
from forum.domain.seats import DEFAULT_OBSERVER_POLICY, ObserverPolicy, parse_observer_policy
from forum.domain.sessions import SessionStatus
from forum.domain.sides import turns_of
from forum.domain.speaking import QueueEntry, QueuePolicy, Turn
from forum.domain.vocabulary import Family, Seat
from forum.errors import ForumError
from forum.wire.room import Floor, Person, QueueItem, RoomState, SessionInfo

# The keys of a room's state that events replace: a client applies an event by
# copying these keys from it into its state.
STATE_KEYS = (
    "session",
    "queue_policy",
    "observer_seats",
    "queue",
    "floor",
    "spoken",
    "budgets",
)


def person(user: User) -> Person:
    """How a person appears in room frames and transcripts."""
    return {
        "user_id": user.id,
        "name": user.display_name,
        "family": user.family,
        "organization": user.organization,
        "country": user.country,
    }


def queue_of(room: Room) -> list[QueueEntry]:
    return [
        QueueEntry(
            user_id=item["user_id"],
            family=Family(item["family"]),
            seat=Seat(item["seat"]),
            raised=item["raised"],
            point_of_order=bool(item.get("point_of_order")),
            note=item.get("note"),
            region_side=item.get("region_side"),
            side=item.get("side"),
        )
        for item in room.queue
    ]


def spoken_of(room: Room) -> dict[Family, int]:
    return {Family(family): count for family, count in room.spoken.items()}


def turn_of(room: Room) -> Turn | None:
    return turn_of_floor(room.floor)


def turn_of_floor(floor: Floor | None) -> Turn | None:
    """The turn a room's stored floor describes (None: the chair has it)."""
    if floor is None:
        return None
    paused_at = floor.get("paused_at")
    return Turn(
        user_id=floor["user_id"],
        family=Family(floor["family"]),
        started_at=datetime.fromisoformat(floor["started_at"]),
        limit_s=floor["limit_s"],
        extended_s=floor["extended_s"],
        point_of_order=bool(floor.get("point_of_order")),
        paused_at=datetime.fromisoformat(paused_at) if paused_at else None,
        paused_s=float(floor.get("paused_s") or 0.0),
    )


def floor_wire(turn: Turn, *, name: str, turn_seq: int) -> Floor:
    """The floor as stored and sent. While paused, `ends_at` is null and `left_s`
    says how much of the turn's time is kept."""
    ends_at = turn.ends_at
    paused = turn.paused_at
    left = turn.time_left(paused) if paused else None
    return {
        "user_id": turn.user_id,
        "name": name,
        "family": turn.family.value,
        "started_at": turn.started_at.isoformat(),
        "limit_s": turn.limit_s,
        "extended_s": turn.extended_s,
        "ends_at": ends_at.isoformat() if ends_at else None,
        "turn": turn_seq,
        "point_of_order": turn.point_of_order,
        "paused_at": paused.isoformat() if paused else None,
        "paused_s": turn.paused_s,
        "left_s": round(left) if left is not None else None,
    }


def set_queue(room: Room, entries: Sequence[QueueEntry], names: dict[int, str]) -> None:
    """Store the queue in the order it would be called (forum/domain/floor.py): points
    of order first, then the room's policy, then the families out of time."""
    exhausted = exhausted_of(room)
    order = call_order(
        QueuePolicy(room.queue_policy),
        entries,
        spoken_of(room),
        sides=sides_of(room),
        exhausted=exhausted,
        side_turns=turns_of(room.side_turns or {}),
    )
    room.queue = [_queue_item(entry, names[entry.user_id], exhausted) for entry in order]


def _queue_item(entry: QueueEntry, name: str, exhausted: frozenset[Family]) -> QueueItem:
    item: QueueItem = {
        "user_id": entry.user_id,
        "name": name,
        "family": entry.family.value,
        "seat": entry.seat.value,
        "raised": entry.raised,
        "point_of_order": entry.point_of_order,
        "note": entry.note,
        "region_side": entry.region_side,
        "out_of_time": not entry.point_of_order and entry.family in exhausted,
    }
    if entry.side is not None:
        item["side"] = entry.side
    return item


def queue_names(room: Room) -> dict[int, str]:
    return {item["user_id"]: item["name"] for item in room.queue}


def observer_policy_of(room: Room) -> ObserverPolicy:
    try:
        return parse_observer_policy(room.observer_seats)
    except ForumError:
        return DEFAULT_OBSERVER_POLICY


def session_wire(row: RoomSession) -> SessionInfo:
    return {
        "id": row.id,
        "room": row.room_id,
        "title": row.title,
        "agenda": row.agenda,
        "agenda_html": row.agenda_html,
        "format": row.format,
        "status": row.status,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "opened_at": row.opened_at.isoformat() if row.opened_at else None,
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
    }


def calendar_facts(row: RoomSession) -> CalendarFacts:
    return CalendarFacts(
        row.title, row.agenda, row.starts_at, row.ends_at, SessionStatus(row.status)
    )


def mark_revised(row: RoomSession, before: CalendarFacts) -> None:
    """After a change to `row`: its calendar SEQUENCE grows if what a calendar shows
    of it changed. Every action that changes a session calls it in the same write."""
    sequence = next_sequence(row.sequence, before, calendar_facts(row))
    if sequence != row.sequence:
        row.sequence, row.revised_at = sequence, utcnow()


def state_wire(room: Room, group: Group, open_session: RoomSession | None) -> RoomState:
    """The room's state at `seq`; the events after `seq` apply to it."""
    return {
        "room": room.id,
        "group": group.slug,
        "name": group.name,
        "seq": room.last_seq,
        "session": session_wire(open_session) if open_session else None,
        "queue_policy": room.queue_policy,
        "observer_seats": observer_policy_of(room).to_json(),
        "queue": list(room.queue),
        "floor": room.floor,
        "spoken": dict(room.spoken),
        "budgets": budgets_wire(room),
    }
