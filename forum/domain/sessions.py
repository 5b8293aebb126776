"""Sessions of a room: who may run them, their formats, and their lifecycle.

A session is scheduled, then opened, then closed; only one session of a room is open
at a time. A scheduled session may instead be cancelled, which ends it for good. The
room's chair runs it. The secretariat, which keeps the structure of the forum, may
stand in for an absent chair. In a caucus the coordinator leads, so the
roles that lead a group (chair and coordinator) both chair its room.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from forum.domain.permissions import Action, may
from forum.domain.textcheck import clean_body, clean_line
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError

TITLE_MAX_CHARS = 200
AGENDA_MAX_CHARS = 20_000
LONGEST_SESSION = timedelta(hours=24)


class SessionFormat(StrEnum):
    OPEN_DEBATE = "open_debate"
    STATEMENTS = "statements"
    BRIEFING = "briefing"
    DRAFTING = "drafting"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


def can_chair(role: Role | None, *, is_secretariat: bool) -> bool:
    """Whether someone runs the room: schedules, opens and closes, gives the floor."""
    return may(Action.RUN_SESSION, role, is_secretariat=is_secretariat)


def _require_chair(is_chair: bool, message: str) -> None:
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, message)


def clean_session_text(title: str, agenda: str) -> tuple[str, str]:
    """A session's title (one line) and agenda (Markdown, may be blank), as stored."""
    return (
        clean_line(title, field="title", max_chars=TITLE_MAX_CHARS),
        clean_body(
            agenda, field="agenda", max_bytes=None, max_chars=AGENDA_MAX_CHARS, required=False
        ),
    )


def check_schedule_session(
    *, is_chair: bool, title: str, agenda: str, starts_at: datetime, ends_at: datetime
) -> str:
    """Validate a new session; returns the title as stored (`clean_session_text`)."""
    _require_chair(is_chair, N_("Only the chair may schedule a session."))
    title, _agenda = clean_session_text(title, agenda)
    for field, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ForumError(
                ErrorCode.VALIDATION, N_("Times must carry a time zone offset."), field=field
            )
    if ends_at <= starts_at:
        raise ForumError(
            ErrorCode.VALIDATION, N_("A session ends after it starts."), field="ends_at"
        )
    if ends_at - starts_at > LONGEST_SESSION:
        raise ForumError(
            ErrorCode.VALIDATION, N_("A session lasts at most 24 hours."), field="ends_at"
        )
    return title


def check_open_session(*, is_chair: bool, status: SessionStatus, another_open: bool) -> None:
    _require_chair(is_chair, N_("Only the chair may open a session."))
    if status is not SessionStatus.SCHEDULED:
        raise ForumError(
            ErrorCode.CONFLICT,
            N_("This session is {status}, not scheduled."),
            params={"status": str(status)},
        )
    if another_open:
        raise ForumError(
            ErrorCode.CONFLICT, N_("Another session is open in this room; close it first.")
        )


def check_close_session(*, is_chair: bool, status: SessionStatus) -> None:
    _require_chair(is_chair, N_("Only the chair may close a session."))
    if status is not SessionStatus.OPEN:
        raise ForumError(
            ErrorCode.SESSION_NOT_OPEN,
            N_("This session is {status}, not open."),
            params={"status": str(status)},
        )


def check_edit_session(
    *,
    is_chair: bool,
    status: SessionStatus,
    title: str,
    agenda: str,
    starts_at: datetime,
    ends_at: datetime,
) -> str:
    """Validate a change to a session not yet open; returns the title, stripped. An open
    or closed session keeps what it was held as: its transcript refers to it."""
    _require_chair(is_chair, N_("Only the chair may edit a session."))
    if status is not SessionStatus.SCHEDULED:
        raise ForumError(
            ErrorCode.CONFLICT,
            N_("This session is {status}; only a scheduled one can be edited."),
            params={"status": str(status)},
        )
    return check_schedule_session(
        is_chair=True, title=title, agenda=agenda, starts_at=starts_at, ends_at=ends_at
    )


def check_cancel_session(*, is_chair: bool, status: SessionStatus) -> None:
    """Only a session not yet held may be called off: one held has its transcript."""
    _require_chair(is_chair, N_("Only the chair may cancel a session."))
    if status is not SessionStatus.SCHEDULED:
        raise ForumError(
            ErrorCode.CONFLICT,
            N_("This session is {status}; only a scheduled one can be cancelled."),
            params={"status": str(status)},
        )
