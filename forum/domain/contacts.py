"""Contact points and the requests that reach them: who may ask whom, who answers, who
reads the conversation that follows, and what a directory entry may hold.

A contact point is a member whose role in a group is `contact_point`. A person of the
government family sends one a request with a message; the contact point accepts or
declines it (with a reason, if they wish). Once accepted, the two write to each other in
a thread that is theirs alone: no third person reads it, the secretariat included.
Between two people there is at most one pending request, and no new one while their
conversation is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from forum.domain.regions import REGIONS
from forum.domain.textcheck import clean_line
from forum.domain.vocabulary import Family
from forum.errors import N_, ErrorCode, ForumError

MAX_EXPERTISE_CHARS = 500
MAX_LANGUAGES = 12
MAX_LANGUAGE_CHARS = 40
MAX_REASON_CHARS = 500


class ContactStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True)
class Parties:
    """The two people of a request, and where it stands."""

    requester_id: int
    contact_id: int
    status: str

    def includes(self, user_id: int) -> bool:
        return user_id in (self.requester_id, self.contact_id)


def may_request_contact(family: str) -> bool:
    """Who sends contact requests: any signed-in person of the government family."""
    return family == Family.GOVERNMENT.value


def check_request_contact(
    *,
    requester_id: int,
    requester_family: str,
    contact_id: int,
    is_contact_point: bool,
    between: Iterable[str],
) -> None:
    """A new request from `requester_id` to `contact_id`; `between` holds the statuses of
    the requests already made between the two, either way."""
    if not may_request_contact(requester_family):
        raise ForumError(
            ErrorCode.FORBIDDEN, N_("Only government delegates send contact requests.")
        )
    if contact_id == requester_id:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("You cannot send a contact request to yourself."),
            field="contact_id",
        )
    if not is_contact_point:
        raise ForumError(
            ErrorCode.NOT_CONTACT_POINT,
            N_("This person is not listed as a contact point."),
            field="contact_id",
        )
    statuses = set(between)
    if ContactStatus.PENDING in statuses:
        raise ForumError(
            ErrorCode.CONTACT_REQUEST_PENDING,
            N_("A request between you and this person is already waiting for an answer."),
        )
    if ContactStatus.ACCEPTED in statuses:
        raise ForumError(
            ErrorCode.CONFLICT, N_("You already have a conversation with this person.")
        )


def check_read_contact(parties: Parties, user_id: int) -> None:
    """Only the two people read a request and its conversation: no role, not even the
    secretariat's, opens it to a third."""
    if not parties.includes(user_id):
        raise ForumError(
            ErrorCode.FORBIDDEN, N_("This conversation is private to the two people in it.")
        )


def check_answer_contact(parties: Parties, user_id: int) -> None:
    """The contact point accepts or declines, once."""
    check_read_contact(parties, user_id)
    if user_id != parties.contact_id:
        raise ForumError(
            ErrorCode.FORBIDDEN, N_("Only the contact point accepts or declines a request.")
        )
    if parties.status != ContactStatus.PENDING:
        raise ForumError(ErrorCode.CONFLICT, N_("This request is already answered."))


def check_write_contact(parties: Parties, user_id: int) -> None:
    """Either of the two writes, once the request is accepted."""
    check_read_contact(parties, user_id)
    if parties.status != ContactStatus.ACCEPTED:
        raise ForumError(
            ErrorCode.CONFLICT,
            N_("Messages are exchanged once the contact point accepts the request."),
        )


@dataclass(frozen=True)
class EntryFields:
    """What a contact point says of themselves in the directory."""

    expertise: str
    languages: tuple[str, ...]
    region: str | None  # None: the region of their country


def clean_expertise(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    return clean_line(text, field="expertise", max_chars=MAX_EXPERTISE_CHARS)


def clean_languages(value: str | Iterable[str]) -> tuple[str, ...]:
    """Languages as a list, or as one line separated by commas; each kept once."""
    items: list[object] = list(value.split(",") if isinstance(value, str) else value)
    kept: list[str] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        name = clean_line(item, field="languages", max_chars=MAX_LANGUAGE_CHARS)
        if name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    if len(kept) > MAX_LANGUAGES:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("List at most {max} languages."),
            field="languages",
            params={"max": MAX_LANGUAGES},
        )
    return tuple(kept)


def clean_region(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if value.strip() not in REGIONS:
        raise ForumError(ErrorCode.VALIDATION, N_("Choose one of the regions."), field="region")
    return value.strip()


def check_contact_entry(
    *, expertise: str, languages: str | Iterable[str], region: str | None
) -> EntryFields:
    return EntryFields(clean_expertise(expertise), clean_languages(languages), clean_region(region))


def clean_reason(value: str) -> str:
    """The optional reason a contact point gives for declining."""
    text = value.strip()
    if not text:
        return ""
    return clean_line(text, field="reason", max_chars=MAX_REASON_CHARS)
