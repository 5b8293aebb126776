"""Participation equity: who had the floor, for how long, and who wrote, counted by
stakeholder family and by north and south (seed 001, §6; forum/domain/regions.py).

The figures are read from a session's transcript entries, so that what the chair sees
live, the transcript and the view over a period are one computation of one record:

- a **turn** is the floor given in the room (`floor`/`give`) or taken by voice
  (`floor`/`voice`); **points of order** are turns too, also counted apart;
- **speaking time** is what each turn that ended recorded (`ended.spoken_s`: pauses
  left out), and the seconds a voice turn was recorded for; a turn still running
  counts for the time spoken so far when the caller passes it (`running`);
- an **intervention** is a written contribution (`intervention`/`post`).

Observers and spectators are never counted: they cannot hold the floor or write, and
an entry from an observer's seat would be left out all the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from forum.domain.regions import SIDES
from forum.domain.vocabulary import Family, Seat

UNKNOWN_SIDE = "unknown"
FIGURES = ("turns", "points_of_order", "speaking_s", "interventions")


def _blank() -> dict[str, int]:
    return dict.fromkeys(FIGURES, 0)


def empty() -> dict[str, Any]:
    return {
        "by_family": {family.value: _blank() for family in Family},
        "by_side": {side: _blank() for side in (*SIDES, UNKNOWN_SIDE)},
        "total": _blank(),
    }


def equity(
    entries: Iterable[Mapping[str, Any]],
    sides: Mapping[int, str | None],
    *,
    running: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The figures of one session's entries. `sides` gives each speaker's side by user
    id; `running` is the turn on the floor now ({user_id, family, spoken_s}), if any."""
    figures = empty()
    spoken: dict[tuple[str, str], float] = {}

    def rows(user_id: int | None, family: str | None) -> list[dict[str, int]]:
        side = sides.get(user_id) if user_id is not None else None
        found = [
            figures["by_side"][side or UNKNOWN_SIDE],
            figures["total"],
        ]
        if family in figures["by_family"]:
            found.append(figures["by_family"][family])
        return found

    def add_time(user_id: int | None, family: str | None, seconds: float) -> None:
        side = sides.get(user_id) if user_id is not None else None
        key = (family or "", side or UNKNOWN_SIDE)
        spoken[key] = spoken.get(key, 0.0) + max(0.0, float(seconds))

    for entry in entries:
        kind, op = entry.get("type"), entry.get("op")
        if kind == "intervention":
            if entry.get("seat") == Seat.OBSERVER.value:
                continue
            for row in rows(entry.get("user_id"), entry.get("family")):
                row["interventions"] += 1
        elif kind == "floor" and op in ("give", "voice"):
            for row in rows(entry.get("user_id"), entry.get("family")):
                row["turns"] += 1
                if entry.get("point_of_order"):
                    row["points_of_order"] += 1
            if op == "voice" and entry.get("duration_s"):
                add_time(entry.get("user_id"), entry.get("family"), entry["duration_s"])
        ended = entry.get("ended")
        if ended:
            add_time(ended.get("user_id"), ended.get("family"), ended.get("spoken_s") or 0)
    if running:
        add_time(running.get("user_id"), running.get("family"), running.get("spoken_s") or 0)
    for (family, side), seconds in spoken.items():
        whole = round(seconds)
        figures["by_side"][side]["speaking_s"] += whole
        figures["total"]["speaking_s"] += whole
        if family in figures["by_family"]:
            figures["by_family"][family]["speaking_s"] += whole
    return figures


def add(into: dict[str, Any], figures: Mapping[str, Any]) -> dict[str, Any]:
    """Sum the figures of several sessions (the view over a period)."""
    for part in ("by_family", "by_side"):
        for key, row in figures[part].items():
            target = into[part].setdefault(key, _blank())
            for name in FIGURES:
                target[name] += row[name]
    for name in FIGURES:
        into["total"][name] += figures["total"][name]
    return into
