"""What a calendar entry says of a session, and when it says it has changed.

A calendar client keeps the copy of an event with the highest SEQUENCE (RFC 5545
3.8.7.4), so the number must grow on every change a reader would see in their
calendar (title, agenda, times, status) and never go back. It is kept on the session
row and moved only through `next_sequence`, in the same write as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from forum.domain.sessions import SessionStatus


@dataclass(frozen=True)
class CalendarFacts:
    """What of a session its calendar entry shows."""

    title: str
    agenda: str
    starts_at: datetime
    ends_at: datetime
    status: SessionStatus


def next_sequence(sequence: int, before: CalendarFacts, after: CalendarFacts) -> int:
    """The entry's SEQUENCE after a change: one more if anything shown changed."""
    return sequence + 1 if before != after else sequence


def calendar_status(status: SessionStatus) -> str:
    """An event's STATUS: a cancelled session says so, the others are confirmed."""
    return "CANCELLED" if status is SessionStatus.CANCELLED else "CONFIRMED"
