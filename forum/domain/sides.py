"""Turns between two sides: the consultation's queue policy.

In a consultation the speaker queue alternates between the two sides by default: the
next speaker comes from the side that has had fewer turns in the session, and within
a side, whoever raised a hand first. While only one side waits, it is called, so the
floor is never held back from someone waiting. Chairs sit on their side like anyone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar


class Waiting(Protocol):
    @property
    def side(self) -> int | None: ...

    @property
    def raised(self) -> int: ...


W = TypeVar("W", bound=Waiting)


def _key(entry: Waiting, turns: Mapping[int, int]) -> tuple[int, int]:
    side = entry.side
    return (turns.get(side, 0) if side is not None else 0, entry.raised)


def next_by_side(queue: Sequence[W], turns: Mapping[int, int]) -> W | None:
    """Who is called next: from the side with fewer turns, the earliest hand."""
    if not queue:
        return None
    return min(queue, key=lambda entry: _key(entry, turns))


def order_by_side(queue: Sequence[W], turns: Mapping[int, int]) -> list[W]:
    """The order the queue would be called in if nobody else raised a hand."""
    counts = dict(turns)
    waiting = list(queue)
    order: list[W] = []
    while waiting:
        entry = min(waiting, key=lambda item: _key(item, counts))
        order.append(entry)
        waiting.remove(entry)
        if entry.side is not None:
            counts[entry.side] = counts.get(entry.side, 0) + 1
    return order


def with_turn(turns: Mapping[str, int], side: int | None) -> dict[str, int]:
    """The sides' turn counts as stored (JSON keys), after one more turn for `side`."""
    counted = dict(turns)
    if side is not None:
        counted[str(side)] = counted.get(str(side), 0) + 1
    return counted


def turns_of(stored: Mapping[str, int]) -> dict[int, int]:
    return {int(side): count for side, count in stored.items()}
