"""The record a closed session keeps: its minutes and its list of follow-ups.

Once a session is closed, the chairs of the groups taking part in it
(`forum.domain.session_groups`) write its minutes (Markdown) and keep its follow-ups:
what is to be done, which of the parties owns it, by when, and where it stands. Nobody
else may; a session not yet closed has no record. Each change is kept as a list of
the fields it changed, from what to what (`changes_between`), so that the page can
say who changed what and when. Both sides write to the same record: a write names the
version it was made on, and one made on an older version is refused rather than
silently undoing the other side's change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from forum.domain.sessions import SessionStatus
from forum.domain.textcheck import MAX_BODY_BYTES, clean_body, clean_line
from forum.errors import N_, ErrorCode, ForumError

MINUTES_MAX_CHARS = 30_000
ITEM_MAX_CHARS = 300
# Due dates outside these years are typing mistakes, not plans.
FIRST_YEAR, LAST_YEAR = 1990, 2100


class FollowUpStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


@dataclass(frozen=True)
class FollowUpDraft:
    item: str
    owner_group_id: int
    due: date | None
    status: FollowUpStatus = FollowUpStatus.OPEN


def check_keep_record(*, keeps_record: bool, status: SessionStatus) -> None:
    """Whether someone may write this session's minutes or follow-ups now."""
    if not keeps_record:
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_("Only the chairs of the groups taking part may keep this session's record."),
        )
    if status is not SessionStatus.CLOSED:
        raise ForumError(
            ErrorCode.SESSION_NOT_CLOSED,
            N_("Minutes and follow-ups are kept once the session is closed."),
        )


def check_version(*, current: int, based_on: int | None) -> None:
    """A write made on an older version than the one stored is refused."""
    if based_on is not None and based_on != current:
        raise ForumError(
            ErrorCode.CONFLICT,
            N_("Someone else changed this meanwhile; read their change and try again."),
            field="version",
            current=current,
        )


def clean_minutes(body: object) -> str:
    return clean_body(body, field="minutes", max_bytes=MAX_BODY_BYTES, max_chars=MINUTES_MAX_CHARS)


def parse_due(value: str) -> date | None:
    """A due date as typed (YYYY-MM-DD); blank is none."""
    text = value.strip()
    if not text:
        return None
    try:
        due = date.fromisoformat(text)
    except ValueError:
        due = None
    if due is None or len(text) != 10 or not FIRST_YEAR <= due.year <= LAST_YEAR:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Give the due date as YYYY-MM-DD, between {first} and {last}."),
            field="due",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return due


def parse_status(value: str) -> FollowUpStatus:
    try:
        return FollowUpStatus(value)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Unknown status '{status}'."),
            field="status",
            params={"status": value},
        ) from None


def check_follow_up(draft: FollowUpDraft, *, parties: Sequence[int]) -> FollowUpDraft:
    """A follow-up as stored: its item one line, owned by one of the parties."""
    item = clean_line(draft.item, field="item", max_chars=ITEM_MAX_CHARS)
    if draft.owner_group_id not in parties:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A follow-up is owned by one of the groups taking part."),
            field="owner",
        )
    if draft.due is not None and not FIRST_YEAR <= draft.due.year <= LAST_YEAR:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Give the due date as YYYY-MM-DD, between {first} and {last}."),
            field="due",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return FollowUpDraft(item, draft.owner_group_id, draft.due, FollowUpStatus(draft.status))


def changes_between(
    before: Mapping[str, object], after: Mapping[str, object]
) -> dict[str, list[object]]:
    """The fields whose value differs, each as [before, after]; a field missing before
    (a new follow-up) is [None, after]."""
    return {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }
