"""Meetings with a room of their own: briefings among named invitees, and what every
meeting room shares with consultations (its address, who is admitted).

A group's room belongs to the group and seats its members. A briefing belongs to no
single group: its invitees are named people across groups and offices, and only they
take seats. Its transcript is public unless the briefing is marked closed; then its
existence, date, participants and outcome summary still are.

Who calls a briefing: a chair of any group, or the secretariat (`Action.CALL_BRIEFING`
in the permission table).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from forum.domain.permissions import Action, allowed, standings
from forum.domain.textcheck import clean_body
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError

# A meeting's room answers to `meeting:<id>` where a group's answers to its slug: a
# colon is never in a slug, so the two can never be mistaken for each other.
ADDRESS_PREFIX = "meeting:"
INVITEES_MAX = 100
OUTCOME_MAX_CHARS = 20_000


class MeetingKind(StrEnum):
    BRIEFING = "briefing"
    CONSULTATION = "consultation"


class MeetingRole(StrEnum):
    """How someone sits in a meeting: who runs it, and who is named to it."""

    CHAIR = "chair"
    INVITEE = "invitee"
    DELEGATE = "delegate"


def address(meeting_id: int) -> str:
    return f"{ADDRESS_PREFIX}{meeting_id}"


def meeting_id_in(value: str) -> int | None:
    """The meeting a room address names, or None when it is a group's slug."""
    if not value.startswith(ADDRESS_PREFIX):
        return None
    rest = value.removeprefix(ADDRESS_PREFIX)
    if not rest.isascii() or not rest.isdigit() or len(rest) > 15:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such meeting."))
    return int(rest)


def room_role(role: MeetingRole | None) -> Role | None:
    """The role a meeting role gives in the room: chairs run it, the others sit."""
    if role is None:
        return None
    return Role.CHAIR if role is MeetingRole.CHAIR else Role.MEMBER


def check_call_briefing(roles: Iterable[Role], *, is_secretariat: bool) -> None:
    if not allowed(Action.CALL_BRIEFING, *standings(list(roles), is_secretariat=is_secretariat)):
        raise ForumError(
            ErrorCode.FORBIDDEN, N_("Only a chair or the secretariat may call a briefing.")
        )


def check_invitees(asked: Sequence[int], found: Iterable[int]) -> list[int]:
    """The invitees, each once, in the order named; every one must be an account."""
    unique = list(dict.fromkeys(asked))
    if not unique:
        raise ForumError(ErrorCode.VALIDATION, N_("Name at least one invitee."), field="invitees")
    if len(unique) > INVITEES_MAX:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A briefing has at most {max} invitees."),
            field="invitees",
            params={"max": INVITEES_MAX},
        )
    missing = set(unique) - set(found)
    if missing:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Some invitees have no account."), field="invitees"
        )
    return unique


def check_admitted(*, admitted: bool) -> None:
    """Only the people named to a meeting take a seat in its room."""
    if not admitted:
        raise ForumError(
            ErrorCode.NOT_INVITED,
            N_("Only the people invited to this meeting take a seat in its room."),
        )


def check_spectators(*, transcript_closed: bool) -> None:
    """Signed-out readers watch a meeting only when its record is public."""
    if transcript_closed:
        raise ForumError(
            ErrorCode.NOT_INVITED,
            N_("This meeting is closed: only its invitees follow it."),
        )


def check_record_outcome(*, is_chair: bool, summary: str) -> str:
    if not is_chair:
        raise ForumError(
            ErrorCode.FORBIDDEN, N_("Only whoever chairs the meeting records its outcome.")
        )
    return clean_body(
        summary, field="summary", max_bytes=None, max_chars=OUTCOME_MAX_CHARS, required=False
    )
