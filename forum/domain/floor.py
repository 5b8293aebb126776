"""The floor as parliaments run it: points of order, notes on requests to speak, the
speaker's clock paused and resumed, and speaking-time budgets per stakeholder family.

- A **point of order** is a request to speak on the conduct of the sitting. It is
  called before every other request, whatever the room's policy, in the order points
  of order were raised. Observers cannot raise one. Its turn is procedural: it does
  not count in the family's rotation count, nor against the family's time budget (the
  equity record still counts it, as a point of order).
- A request to speak may carry a **note** from a closed list: for, against, or a
  question. The queue shows it; it does not change the order.
- The chair **pauses** the speaker's clock and **resumes** it: the time left is kept,
  the turn cannot run out while paused, and the paused time is not speaking time.
- A session may give each stakeholder family a **speaking-time budget**. The budgets
  together must fit in the session's length. A turn given to a family with a budget
  lasts at most the family's time left; a family with no time left is passed over by
  the policy (its requests wait at the end of the queue, shown as out of time), and
  the chair cannot give it the floor by name either: a budget is the session's rule,
  and the chair who wants to give a family more time raises its budget, which the
  room sees. Points of order are never passed over.
- The **rotation across families and regions** calls next whoever's family and side
  (north or south, forum/domain/regions.py) have together spoken least.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from forum.domain.speaking import QueueEntry, QueuePolicy, Turn, projected_order
from forum.domain.structure import family_key
from forum.domain.vocabulary import Family, Seat
from forum.errors import N_, ErrorCode, ForumError


class Note(StrEnum):
    PRO = "pro"
    CONTRA = "contra"
    QUESTION = "question"


def call_order(
    policy: QueuePolicy,
    queue: Sequence[QueueEntry],
    spoken: Mapping[Family, int],
    *,
    sides: Mapping[str, int] | None = None,
    exhausted: frozenset[Family] = frozenset(),
    side_turns: Mapping[int, int] | None = None,
) -> list[QueueEntry]:
    """The queue in the order it would be called: points of order first, then the
    policy's order of everyone whose family has time left, then those passed over."""
    points = sorted((e for e in queue if e.point_of_order), key=lambda e: e.raised)
    rest = [e for e in queue if not e.point_of_order]
    able = [e for e in rest if e.family not in exhausted]
    passed = sorted((e for e in rest if e.family in exhausted), key=lambda e: e.raised)
    if policy is QueuePolicy.ROTATION_REGIONS:
        ordered = _weighted(able, spoken, sides or {})
    else:
        ordered = projected_order(policy, able, spoken, side_turns)
    return [*points, *ordered, *passed]


def _weighted(
    queue: Sequence[QueueEntry], spoken: Mapping[Family, int], sides: Mapping[str, int]
) -> list[QueueEntry]:
    families = dict(spoken)
    by_side = dict(sides)
    waiting = list(queue)
    order: list[QueueEntry] = []

    def weight(entry: QueueEntry) -> tuple[int, int]:
        side = by_side.get(entry.region_side, 0) if entry.region_side else 0
        return families.get(entry.family, 0) + side, entry.raised

    while waiting:
        entry = min(waiting, key=weight)
        order.append(entry)
        waiting.remove(entry)
        families[entry.family] = families.get(entry.family, 0) + 1
        if entry.region_side:
            by_side[entry.region_side] = by_side.get(entry.region_side, 0) + 1
    return order


def next_in_line(
    policy: QueuePolicy,
    queue: Sequence[QueueEntry],
    spoken: Mapping[Family, int],
    *,
    sides: Mapping[str, int] | None = None,
    exhausted: frozenset[Family] = frozenset(),
    side_turns: Mapping[int, int] | None = None,
) -> QueueEntry | None:
    """Whom the policy calls next: None when nobody waits who may be called."""
    order = call_order(
        policy, queue, spoken, sides=sides, exhausted=exhausted, side_turns=side_turns
    )
    for entry in order:
        if entry.point_of_order or entry.family not in exhausted:
            return entry
    return None


def check_point_of_order(seat: Seat) -> None:
    if seat is Seat.OBSERVER:
        raise ForumError(
            ErrorCode.OBSERVER_CANNOT_SPEAK, N_("Observers cannot raise a point of order.")
        )


def check_callable(
    *, is_chair: bool, session_open: bool, waiting: int, chosen: QueueEntry | None
) -> None:
    """The chair asks for the next speaker while everyone waiting is out of time."""
    if is_chair and session_open and waiting and chosen is None:
        raise ForumError(
            ErrorCode.FAMILY_TIME_EXHAUSTED,
            N_("Everyone waiting belongs to a stakeholder family that has used its time."),
        )


# -- budgets ---------------------------------------------------------------------


def exhausted_families(
    budgets: Mapping[Family, int], used: Mapping[Family, float]
) -> frozenset[Family]:
    return frozenset(f for f, budget in budgets.items() if used.get(f, 0.0) >= budget)


def time_left(budgets: Mapping[Family, int], used: Mapping[Family, float], family: Family) -> int:
    """Whole seconds the family has left (never negative); only for a family with a budget."""
    return max(0, int(budgets[family] - used.get(family, 0.0)))


def capped_limit(
    limit_s: int | None,
    family: Family,
    *,
    point_of_order: bool,
    budgets: Mapping[Family, int],
    used: Mapping[Family, float],
) -> int | None:
    """The turn's limit: the chair's, cut to the family's time left when it has a budget."""
    if point_of_order or family not in budgets:
        return limit_s
    left = time_left(budgets, used, family)
    return left if limit_s is None else min(limit_s, left)


def check_budgets(raw: Mapping[str, object], *, session_length_s: int) -> dict[Family, int]:
    """The budgets as stored: whole seconds per family, together no more than the
    session's length."""
    budgets: dict[Family, int] = {}
    for key, seconds in raw.items():
        # Cut to 40 characters for the message: no family's name is that long, so the
        # same keys are refused.
        family = family_key(key[:40], field="budgets")
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
            raise ForumError(
                ErrorCode.VALIDATION,
                N_("A family's speaking time is a whole number of seconds, at least one."),
                field=family.value,
            )
        budgets[family] = seconds
    total = sum(budgets.values())
    if total > session_length_s:
        raise ForumError(
            ErrorCode.BUDGET_EXCEEDS_SESSION,
            N_("The budgets add up to {total} minutes; the session lasts {length} minutes."),
            field="budgets",
            params={"total": total // 60, "length": session_length_s // 60},
        )
    return budgets


def check_set_budgets(*, is_chair: bool, closed: bool) -> None:
    if not is_chair:
        raise ForumError(
            ErrorCode.FORBIDDEN, N_("Only the chair may set the families' speaking time.")
        )
    if closed:
        raise ForumError(ErrorCode.CONFLICT, N_("This session is closed."))


def check_exhausted(entry: QueueEntry, exhausted: frozenset[Family]) -> None:
    """The chair gives the floor by name: refused to a family out of time."""
    if not entry.point_of_order and entry.family in exhausted:
        raise ForumError(
            ErrorCode.FAMILY_TIME_EXHAUSTED,
            N_("This stakeholder family has used all its speaking time."),
            field="user_id",
        )


# -- pause and resume --------------------------------------------------------------


def check_pause(*, is_chair: bool, turn: Turn | None) -> Turn:
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may pause the speaker."))
    if turn is None:
        raise ForumError(ErrorCode.CONFLICT, N_("Nobody holds the floor."))
    if turn.paused_at is not None:
        raise ForumError(ErrorCode.CONFLICT, N_("The speaker's time is paused already."))
    return turn


def check_resume(*, is_chair: bool, turn: Turn | None) -> Turn:
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may resume the speaker."))
    if turn is None:
        raise ForumError(ErrorCode.CONFLICT, N_("Nobody holds the floor."))
    if turn.paused_at is None:
        raise ForumError(ErrorCode.CONFLICT, N_("The speaker's time is not paused."))
    return turn


def pause(turn: Turn, now: datetime) -> Turn:
    return replace(turn, paused_at=now)


def resume(turn: Turn, now: datetime) -> Turn:
    assert turn.paused_at is not None  # noqa: S101 - check_resume refuses otherwise
    paused = max(0.0, (now - turn.paused_at).total_seconds())
    return replace(turn, paused_at=None, paused_s=turn.paused_s + paused)
