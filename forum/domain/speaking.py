"""The speaker queue and the floor.

Participants and remote participants raise a hand and wait in the queue; the chair
gives the floor to the next speaker (chosen by the room's queue policy) or to anyone in
the queue, and takes it back. A turn may have a speaking time, which the chair may
extend; when it runs out the floor returns to the chair.

Who may make an intervention depends on the session's format: in an open debate anyone
seated except observers may post short interventions; in the other formats only the
floor holder and the chair may speak, and the chair alone while nobody holds the floor.
Observers never speak, whatever the format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from forum.domain import sides
from forum.domain.sessions import SessionFormat
from forum.domain.textcheck import clean_body
from forum.domain.vocabulary import Family, Seat
from forum.errors import N_, ErrorCode, ForumError

INTERVENTION_MAX_CHARS = 4000
SHORT_INTERVENTION_MAX_CHARS = 500
SPEAKING_TIME_MAX_S = 3600
QUEUE_MAX = 500


class QueuePolicy(StrEnum):
    FIFO = "fifo"
    """First come, first served."""
    ROTATION = "rotation"
    """Next from the stakeholder family that has spoken least in this session; among
    its members, whoever raised a hand first."""
    ROTATION_REGIONS = "rotation_regions"
    """Rotation that weighs north and south as well as families (forum/domain/floor.py)."""
    ALTERNATING = "alternating"
    """Between the two sides of a consultation (forum/domain/sides.py)."""


@dataclass(frozen=True, slots=True)
class QueueEntry:
    user_id: int
    family: Family
    seat: Seat
    raised: int
    """Order key: lower means earlier. The chair's reordering rewrites it."""
    point_of_order: bool = False
    note: str | None = None
    """pro, contra or question (forum/domain/floor.py)."""
    region_side: str | None = None
    """north or south, from the speaker's country (forum/domain/regions.py)."""
    side: int | None = None
    """The consultation side (its group's id) the speaker sits on; None elsewhere."""


@dataclass(frozen=True, slots=True)
class Turn:
    """Who holds the floor, since when, and for how long."""

    user_id: int
    family: Family
    started_at: datetime
    limit_s: int | None = None
    extended_s: int = 0
    point_of_order: bool = False
    paused_at: datetime | None = None
    """Set while the chair holds the speaker's clock: the time left is kept."""
    paused_s: float = 0.0
    """Seconds spent paused before the current pause, if any."""

    @property
    def ends_at(self) -> datetime | None:
        """When the time runs out; None for an open turn, or while paused."""
        if self.limit_s is None or self.paused_at is not None:
            return None
        return self.started_at + timedelta(seconds=self.limit_s + self.extended_s + self.paused_s)

    def spoken_s(self, now: datetime) -> float:
        """Seconds spoken so far: pauses left out, never past the turn's limit."""
        until = self.paused_at or now
        spoken = (until - self.started_at).total_seconds() - self.paused_s
        if self.limit_s is not None:
            spoken = min(spoken, float(self.limit_s + self.extended_s))
        return max(0.0, spoken)

    def time_left(self, now: datetime) -> float | None:
        """Seconds of speaking time left (never negative), or None for an open turn."""
        if self.limit_s is None:
            return None
        return max(0.0, self.limit_s + self.extended_s - self.spoken_s(now))

    def expired(self, now: datetime) -> bool:
        ends_at = self.ends_at
        return ends_at is not None and now >= ends_at

    def extend(self, seconds: int) -> Turn:
        return replace(self, extended_s=self.extended_s + seconds)


def _by_arrival(queue: Iterable[QueueEntry]) -> list[QueueEntry]:
    return sorted(queue, key=lambda entry: entry.raised)


def next_speaker(
    policy: QueuePolicy,
    queue: Sequence[QueueEntry],
    spoken: Mapping[Family, int],
    side_turns: Mapping[int, int] | None = None,
) -> QueueEntry | None:
    """Who the policy calls next, or None when nobody waits."""
    if not queue:
        return None
    if policy is QueuePolicy.ALTERNATING:
        return sides.next_by_side(queue, side_turns or {})
    if policy is QueuePolicy.FIFO:
        return min(queue, key=lambda entry: entry.raised)
    return min(queue, key=lambda entry: (spoken.get(entry.family, 0), entry.raised))


def projected_order(
    policy: QueuePolicy,
    queue: Sequence[QueueEntry],
    spoken: Mapping[Family, int],
    side_turns: Mapping[int, int] | None = None,
) -> list[QueueEntry]:
    """The order in which the queue would be called if nobody else raised a hand.

    Under rotation each call changes the counts, so the order is found by calling the
    next speaker repeatedly rather than by one sort.
    """
    if policy is QueuePolicy.FIFO:
        return _by_arrival(queue)
    if policy is QueuePolicy.ALTERNATING:
        return sides.order_by_side(queue, side_turns or {})
    counts = dict(spoken)
    waiting = list(queue)
    order: list[QueueEntry] = []
    while waiting:
        entry = min(waiting, key=lambda item: (counts.get(item.family, 0), item.raised))
        order.append(entry)
        waiting.remove(entry)
        counts[entry.family] = counts.get(entry.family, 0) + 1
    return order


def find(queue: Iterable[QueueEntry], user_id: int) -> QueueEntry | None:
    return next((entry for entry in queue if entry.user_id == user_id), None)


def raise_hand(queue: Sequence[QueueEntry], entry: QueueEntry) -> tuple[QueueEntry, ...]:
    return (*queue, entry)


def lower_hand(queue: Sequence[QueueEntry], user_id: int) -> tuple[QueueEntry, ...]:
    return tuple(entry for entry in queue if entry.user_id != user_id)


def move(queue: Sequence[QueueEntry], user_id: int, position: int) -> tuple[QueueEntry, ...]:
    """Put a waiting speaker at `position` (0 is first) of the arrival order.

    The order keys are renumbered so that later arrivals still sort after everyone.
    """
    ordered = _by_arrival(queue)
    entry = find(ordered, user_id)
    if entry is None:
        raise KeyError(user_id)
    ordered.remove(entry)
    ordered.insert(position, entry)
    return tuple(replace(item, raised=index) for index, item in enumerate(ordered))


def check_raise_hand(
    seat: Seat,
    *,
    session_open: bool,
    already_in_queue: bool,
    holds_floor: bool,
    queue_size: int = 0,
) -> None:
    if seat is Seat.OBSERVER:
        raise ForumError(ErrorCode.OBSERVER_CANNOT_SPEAK, N_("Observers cannot raise a hand."))
    if not session_open:
        raise ForumError(ErrorCode.SESSION_NOT_OPEN, N_("No session is open in this room."))
    if holds_floor:
        raise ForumError(ErrorCode.CONFLICT, N_("You already have the floor."))
    if already_in_queue:
        raise ForumError(ErrorCode.CONFLICT, N_("Your hand is already raised."))
    if queue_size >= QUEUE_MAX:
        raise ForumError(ErrorCode.CONFLICT, N_("The speaker queue is full."))


def check_lower_hand(*, user_id: int, target_id: int, is_chair: bool, in_queue: bool) -> None:
    """Anyone lowers their own hand; the chair may lower anyone's."""
    if user_id != target_id and not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may lower another's hand."))
    if not in_queue:
        raise ForumError(ErrorCode.CONFLICT, N_("That hand is not raised."))


def check_lower_all_hands(*, is_chair: bool, queue_size: int) -> None:
    """The chair clears the queue at once (a new item of the agenda, say)."""
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may lower every hand."))
    if queue_size == 0:
        raise ForumError(ErrorCode.CONFLICT, N_("No hand is raised."))


def check_move(*, is_chair: bool, in_queue: bool, position: int, queue_size: int) -> None:
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may reorder the queue."))
    if not in_queue:
        raise ForumError(ErrorCode.CONFLICT, N_("That person is not in the queue."))
    if not 0 <= position < queue_size:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Position must be from 0 to {last}."),
            field="position",
            params={"last": queue_size - 1},
        )


def check_set_policy(*, is_chair: bool) -> None:
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may choose the queue policy."))


def check_speaking_time(seconds: int | None, *, field: str = "limit_s") -> None:
    if seconds is not None and not 1 <= seconds <= SPEAKING_TIME_MAX_S:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Speaking time is from 1 to {max} seconds."),
            field=field,
            params={"max": SPEAKING_TIME_MAX_S},
        )


def check_give_floor(
    *, is_chair: bool, session_open: bool, in_queue: bool, limit_s: int | None
) -> None:
    """The chair gives the floor to someone waiting in the queue.

    Giving the floor while it is held ends the current turn: chairs move from one
    speaker to the next in one step.
    """
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may give the floor."))
    if not session_open:
        raise ForumError(ErrorCode.SESSION_NOT_OPEN, N_("No session is open in this room."))
    if not in_queue:
        raise ForumError(ErrorCode.CONFLICT, N_("Nobody (or not that person) is waiting."))
    check_speaking_time(limit_s)


def check_take_floor(*, is_chair: bool, turn: Turn | None) -> None:
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may take the floor back."))
    if turn is None:
        raise ForumError(ErrorCode.CONFLICT, N_("Nobody holds the floor."))


def check_extend_floor(*, is_chair: bool, turn: Turn | None, seconds: int) -> None:
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may extend speaking time."))
    if turn is None:
        raise ForumError(ErrorCode.CONFLICT, N_("Nobody holds the floor."))
    if turn.limit_s is None:
        raise ForumError(ErrorCode.CONFLICT, N_("This turn has no speaking time to extend."))
    check_speaking_time(seconds, field="seconds")


def clean_intervention(body: str, *, limit: int) -> str:
    """An intervention is plain text under the body rules, its outer blanks trimmed."""
    return clean_body(body, field="body", max_bytes=None, max_chars=limit, trim=True)


def check_intervene(
    seat: Seat,
    session_format: SessionFormat,
    *,
    user_id: int,
    is_chair: bool,
    session_open: bool,
    turn: Turn | None,
    now: datetime,
    body: str,
) -> str:
    """Whether this person may speak now; returns the cleaned body."""
    if seat is Seat.OBSERVER:
        raise ForumError(ErrorCode.OBSERVER_CANNOT_SPEAK, N_("Observers cannot speak."))
    if not session_open:
        raise ForumError(ErrorCode.SESSION_NOT_OPEN, N_("No session is open in this room."))
    live_turn = turn if turn is not None and not turn.expired(now) else None
    holds_floor = live_turn is not None and live_turn.user_id == user_id
    if is_chair or holds_floor:
        return clean_intervention(body, limit=INTERVENTION_MAX_CHARS)
    if session_format is SessionFormat.OPEN_DEBATE:
        return clean_intervention(body, limit=SHORT_INTERVENTION_MAX_CHARS)
    if live_turn is not None:
        raise ForumError(ErrorCode.FLOOR_HELD, N_("Someone else has the floor."))
    if turn is not None and turn.user_id == user_id:
        raise ForumError(ErrorCode.FLOOR_REQUIRED, N_("Your speaking time is over."))
    raise ForumError(
        ErrorCode.FLOOR_REQUIRED,
        N_("Raise your hand and wait for the chair to give you the floor."),
    )
