"""Access windows: part of a session opened to people outside its group.

"The last 15 minutes of the civil society plenary are open to governments": a window
has a start (an offset before the session's scheduled end, or a time), a length, whom
it admits (stakeholder families, groups, or both: either lets a person in), the seat it
gives, and what happens to those it admitted when it ends (they move to an observer
seat, or leave the room).

A window lies inside its session: one that starts before the session or runs past its
end is refused. While it is open, the people it admits may take its seat (a
participant window gives the choice of in the room or remote, as members have). Before
it, they are refused with `access_window_closed`, the window's times in the message.
After a window that moves people to observer, they may still sit as observers until
the session closes, so a reconnect finds them where the end of the window put them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from forum.domain.vocabulary import Family, Seat
from forum.errors import N_, ErrorCode, ForumError

LONGEST_WINDOW = timedelta(hours=24)
MAX_GROUPS = 50


class AfterWindow(StrEnum):
    OBSERVER = "observer"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """What the chair asks for: `offset` before the session's end, or `at`."""

    length: timedelta
    seat: Seat
    after: AfterWindow
    families: frozenset[Family] = frozenset()
    group_ids: frozenset[int] = frozenset()
    offset: timedelta | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """A window as set: its times fixed, whom it admits."""

    id: int
    starts_at: datetime
    ends_at: datetime
    seat: Seat
    after: AfterWindow
    families: frozenset[Family]
    group_ids: frozenset[int]
    session_ends_at: datetime

    def admits(self, family: Family, group_ids: Iterable[int]) -> bool:
        return family in self.families or not self.group_ids.isdisjoint(group_ids)

    def is_open(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def seats(self) -> frozenset[Seat]:
        if self.seat is Seat.PARTICIPANT:
            return frozenset({Seat.PARTICIPANT, Seat.REMOTE})
        return frozenset({self.seat})


def check_set_window(
    spec: WindowSpec,
    *,
    is_chair: bool,
    session_open_or_scheduled: bool,
    session_starts_at: datetime,
    session_ends_at: datetime,
) -> tuple[datetime, datetime]:
    """Validate a new window; returns its start and end."""
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may open a session to others."))
    if not session_open_or_scheduled:
        raise ForumError(
            ErrorCode.CONFLICT, N_("This session is closed; its windows can no longer change.")
        )
    if not spec.families and not spec.group_ids:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Say whom the window admits: a stakeholder family or a group."),
            field="families",
        )
    if len(spec.group_ids) > MAX_GROUPS:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A window admits at most {max} groups."),
            field="groups",
            params={"max": MAX_GROUPS},
        )
    if spec.length <= timedelta(0) or spec.length > LONGEST_WINDOW:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A window lasts from one minute to 24 hours."),
            field="length",
        )
    if (spec.offset is None) == (spec.at is None):
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Give the window's start either as minutes before the end or as a time."),
            field="start",
        )
    if spec.offset is not None:
        if spec.offset <= timedelta(0):
            raise ForumError(
                ErrorCode.VALIDATION,
                N_("The start is a number of minutes before the session's end."),
                field="start",
            )
        starts_at = session_ends_at - spec.offset
    else:
        assert spec.at is not None  # noqa: S101 - one of the two, checked above
        if spec.at.tzinfo is None or spec.at.utcoffset() is None:
            raise ForumError(
                ErrorCode.VALIDATION, N_("Times must carry a time zone offset."), field="start"
            )
        starts_at = spec.at
    ends_at = starts_at + spec.length
    if starts_at < session_starts_at:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("The window starts before its session does."),
            field="start",
        )
    if ends_at > session_ends_at:
        raise ForumError(
            ErrorCode.WINDOW_PAST_SESSION,
            N_("The window would end at {end}, after its session ends at {session_end}."),
            field="length",
            params={
                "end": f"{ends_at:%Y-%m-%d %H:%M} UTC",
                "session_end": f"{session_ends_at:%Y-%m-%d %H:%M} UTC",
            },
        )
    return starts_at, ends_at


def window_seats(
    windows: Sequence[Window], *, family: Family, group_ids: Iterable[int], now: datetime
) -> frozenset[Seat]:
    """The seats the windows give this person now: those of every open window that
    admits them, and an observer seat after a window that moved them there (the
    windows read are those of the open session, so until it closes)."""
    groups = frozenset(group_ids)
    seats: set[Seat] = set()
    for window in windows:
        if not window.admits(family, groups):
            continue
        if window.is_open(now):
            seats |= window.seats()
        elif window.after is AfterWindow.OBSERVER and window.ends_at <= now:
            seats.add(Seat.OBSERVER)
    return frozenset(seats)


def check_window_admission(
    seat: Seat,
    windows: Sequence[Window],
    *,
    family: Family,
    group_ids: Iterable[int],
    now: datetime,
) -> bool:
    """Whether a window seats this person on `seat` now (True), or says nothing of
    them (False: the room's own rules decide). Refused with `access_window_closed`
    when a window admits them to that seat at another time."""
    groups = frozenset(group_ids)
    if seat in window_seats(windows, family=family, group_ids=groups, now=now):
        return True
    later = [
        window
        for window in windows
        if window.admits(family, groups) and seat in window.seats() and now < window.ends_at
    ]
    if not later:
        return False
    first = min(later, key=lambda window: window.starts_at)
    raise ForumError(
        ErrorCode.WINDOW_CLOSED,
        N_("This session is open to you from {start} to {end} (UTC), not yet."),
        params={"start": f"{first.starts_at:%H:%M}", "end": f"{first.ends_at:%H:%M}"},
        starts_at=first.starts_at.isoformat(),
        ends_at=first.ends_at.isoformat(),
    )


def seat_at_end(window: Window) -> Seat | None:
    """Where someone the window seated goes when it ends (None: out of the room)."""
    return Seat.OBSERVER if window.after is AfterWindow.OBSERVER else None
