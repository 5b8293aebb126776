"""The room's floor tally as kept on the room row (`rooms.floor_tally`) and sent on the
wire: the open session's budgets per family, the seconds each family has spoken, and
turns by north and south (for the rotation across regions). It reads nothing and
writes nothing beyond the room row it is given.

The tally is emptied when a session opens (and given that session's budgets) and when
it closes. A turn's time is added when the turn ends (`settle`): the chair takes the
floor back, gives it to the next speaker, the time runs out, or the session closes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from forum.db.models import Room
from forum.domain import floor as floor_rules
from forum.domain.speaking import Turn
from forum.domain.vocabulary import Family
from forum.wire.room import Budgets, Ended, FloorTally


def open_tally(budgets: Mapping[str, int]) -> FloorTally:
    return {"budgets": dict(budgets), "used_s": {}, "sides": {}}


def budgets_of(room: Room) -> dict[Family, int]:
    raw = (room.floor_tally or {}).get("budgets", {})
    return {Family(family): int(seconds) for family, seconds in raw.items()}


def used_of(room: Room) -> dict[Family, float]:
    raw = (room.floor_tally or {}).get("used_s", {})
    return {Family(family): float(seconds) for family, seconds in raw.items()}


def sides_of(room: Room) -> dict[str, int]:
    return {side: int(count) for side, count in (room.floor_tally or {}).get("sides", {}).items()}


def exhausted_of(room: Room) -> frozenset[Family]:
    return floor_rules.exhausted_families(budgets_of(room), used_of(room))


def _store(room: Room, parts: FloorTally) -> None:
    # A new dict, so that the JSON column is seen as changed.
    room.floor_tally = {**open_tally({}), **(room.floor_tally or {}), **parts}


def set_budgets(room: Room, budgets: dict[Family, int]) -> None:
    _store(room, {"budgets": {family.value: seconds for family, seconds in budgets.items()}})


def budgets_wire(room: Room) -> Budgets:
    """Each budgeted family's budget, seconds used and left (ended turns only: the
    running turn's time is the client's to count down)."""
    used = used_of(room)
    budgets = budgets_of(room)
    return {
        family.value: {
            "budget_s": budget,
            "used_s": round(used.get(family, 0.0)),
            "left_s": floor_rules.time_left(budgets, used, family),
        }
        for family, budget in budgets.items()
    }


def count_side(room: Room, side: str | None) -> None:
    if side is None:
        return
    sides = sides_of(room)
    sides[side] = sides.get(side, 0) + 1
    _store(room, {"sides": sides})


def add_time(room: Room, family: Family, seconds: int) -> None:
    used = used_of(room)
    used[family] = used.get(family, 0.0) + seconds
    _store(room, {"used_s": {key.value: value for key, value in used.items()}})


def settle(room: Room, turn: Turn | None, now: datetime) -> Ended | None:
    """End the accounting of `turn` (the room's floor, about to end): its spoken seconds
    go to its family's time used, unless it was a point of order. Returns what the
    event that ends it records as `ended`."""
    if turn is None or room.floor is None:
        return None
    spoken = round(turn.spoken_s(now))
    if not turn.point_of_order:
        add_time(room, turn.family, spoken)
    return {
        "user_id": turn.user_id,
        "name": room.floor.get("name"),
        "family": turn.family.value,
        "spoken_s": spoken,
        "point_of_order": turn.point_of_order,
    }
