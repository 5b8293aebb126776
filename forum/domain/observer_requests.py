"""Observer requests: a person, or a caucus, asks for an observer seat in a group's
sessions, and the group's chair approves or refuses with a reason.

An approval holds one of the room's observer seats (`ObserverPolicy`) for good: the
approved person (or any one member of the approved caucus at a time) takes it in every
session without asking again, and people who come unannounced find the seats held for
approved observers taken. So a request to a room whose policy gives the family no seat
is refused, and so is an approval past the family's seats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from forum.domain.seats import ObserverPolicy
from forum.domain.textcheck import clean_line
from forum.domain.vocabulary import Family
from forum.errors import N_, ErrorCode, ForumError

REASON_MAX_CHARS = 500


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Approval:
    """An approved request: for one person, or for a caucus (`caucus_id`)."""

    user_id: int
    caucus_id: int | None
    family: Family


def check_request_observer(
    *,
    family: Family,
    policy: ObserverPolicy,
    in_group: bool,
    for_caucus: bool,
    leads_caucus: bool,
    pending: bool,
    approved: bool,
) -> None:
    """Whether a person (or a caucus, `for_caucus`) may ask for an observer seat."""
    if for_caucus and not leads_caucus:
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_("Only the caucus's chair or coordinator asks on its behalf."),
            field="caucus",
        )
    if in_group:
        raise ForumError(
            ErrorCode.CONFLICT, N_("Members of this group take part in its sessions already.")
        )
    if policy.seats_for(family) == 0:
        raise ForumError(
            ErrorCode.NO_OBSERVER_SEATS,
            N_("This room has no observer seats for {family}, so none can be asked for."),
            params={"family": family.value},
        )
    if pending:
        raise ForumError(
            ErrorCode.OBSERVER_REQUEST_PENDING,
            N_("A request for this observer seat is already waiting for the chair."),
        )
    if approved:
        raise ForumError(ErrorCode.CONFLICT, N_("This observer seat is approved already."))


def check_decide_request(
    *,
    is_chair: bool,
    status: RequestStatus,
    approve: bool,
    reason: str,
    family: Family,
    policy: ObserverPolicy,
    approved_of_family: int,
) -> str:
    """Validate the chair's decision; returns the reason as stored."""
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair decides observer requests."))
    if status is not RequestStatus.PENDING:
        raise ForumError(
            ErrorCode.CONFLICT,
            N_("This request is {status} already."),
            params={"status": str(status)},
        )
    text = (
        ""
        if approve and not reason.strip()
        else clean_line(reason, field="reason", max_chars=REASON_MAX_CHARS)
    )
    if approve and approved_of_family >= policy.seats_for(family):
        raise ForumError(
            ErrorCode.NO_SEAT,
            N_("Every observer seat for {family} ({seats} in all) is approved already."),
            seats=policy.seats_for(family),
            params={"family": family.value},
        )
    return text


def observer_admission(
    *,
    user_id: int,
    caucus_ids: Iterable[int],
    approvals: Sequence[Approval],
    observers: Mapping[int, Family],
    filled_caucuses: Iterable[int],
) -> tuple[bool, dict[int, Family]]:
    """Whether an approval seats this person as an observer (True), and otherwise the
    observers to count them against: those seated plus one stand-in (a negative id)
    for each approved seat not taken now.

    `filled_caucuses` are the approved caucuses one of whose members sits as an
    observer already: the caucus's seat is theirs, and the next member counts as
    anyone else.
    """
    caucuses = frozenset(caucus_ids)
    filled = frozenset(filled_caucuses)
    for approval in approvals:
        if approval.caucus_id is None and approval.user_id == user_id:
            return True, dict(observers)
        if approval.caucus_id in caucuses and (
            approval.caucus_id not in filled or user_id in observers
        ):
            return True, dict(observers)
    counted = dict(observers)
    held = 0
    for approval in approvals:
        taken = (
            approval.caucus_id in filled
            if approval.caucus_id is not None
            else approval.user_id in observers
        )
        if not taken:
            held += 1
            counted[-held] = approval.family
    return False, counted
