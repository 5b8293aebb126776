"""Consultations between two parties: proposal, answer, delegations, notice.

The lessons of the May 2005 consultation (seed 002) are the rules here: the proposal
says what kind of interaction it is; it shows the notice it gives, and under the
forum's minimum (`FORUM_CONSULTATION_MIN_NOTICE_DAYS`) it is marked short-notice to
both sides and in the schedule; and each side names its own delegation, within the
seats agreed, so the host can never choose the other side's people.

Either side's chair (or coordinator, who leads a caucus) proposes; the other side's
answers: accept, decline with a reason, or propose another time, which the first side
then accepts or declines.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from forum.domain.permissions import Action, allowed, standings
from forum.domain.sessions import LONGEST_SESSION, SessionFormat
from forum.domain.textcheck import clean_body
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError

SEATS_PER_SIDE_MAX = 50
SHORTEST = timedelta(minutes=15)
FURTHEST = timedelta(days=3 * 366)
PURPOSE_MAX_CHARS = 4000
REASON_MAX_CHARS = 2000
# What kind of interaction it is ("reviewing comments can mean a very open debate or a
# simple collation of successive interventions"): comments on a text are a drafting.
INTERACTIONS = (SessionFormat.OPEN_DEBATE, SessionFormat.STATEMENTS, SessionFormat.DRAFTING)
# A delegate speaks for the side: members who take part, not its observers.
DELEGATE_ROLES = frozenset({Role.CHAIR, Role.COORDINATOR, Role.MEMBER, Role.CONTACT_POINT})


class Basis(StrEnum):
    ISSUE = "issue"
    """A governmental working group and the related caucus."""
    REGION = "region"
    """A governmental regional group and a civil society regional caucus."""


class ConsultationStatus(StrEnum):
    PROPOSED = "proposed"
    """Waiting for the invited side's answer."""
    COUNTERED = "countered"
    """The invited side proposed another time: waiting for the first side."""
    ACCEPTED = "accepted"
    DECLINED = "declined"


def groups_taking_part(host_group_id: int, guest_group_id: int) -> tuple[int, int]:
    """The groups taking part in a consultation's session: the two sides, host first.

    Minutes and follow-ups of a closed consultation are kept by the chairs of both."""
    return (host_group_id, guest_group_id)


def leads(role: Role | None) -> bool:
    """Whether this role in a side's group speaks for that side."""
    return allowed(Action.ARRANGE_CONSULTATION, *standings([] if role is None else [role]))


def notice_given(proposed_at: datetime, starts_at: datetime) -> timedelta:
    return max(timedelta(0), starts_at - proposed_at)


def is_short_notice(notice: timedelta, *, min_days: int) -> bool:
    return notice < timedelta(days=min_days)


def check_propose(
    *,
    leads_host: bool,
    host_id: int,
    guest_id: int,
    basis: Basis,
    host_region: str | None,
    guest_region: str | None,
    interaction: SessionFormat,
    purpose: str,
    starts_at: datetime,
    minutes: int,
    seats_per_side: int,
    now: datetime,
) -> str:
    """Validate a proposal; returns the purpose as stored."""
    if not leads_host:
        raise ForumError(
            ErrorCode.NOT_CONSULTATION_CHAIR,
            N_("Only the chair or a coordinator of the proposing group proposes for it."),
        )
    if host_id == guest_id:
        raise ForumError(
            ErrorCode.VALIDATION, N_("A consultation is between two groups."), field="guest"
        )
    if basis is Basis.REGION and not (host_region and guest_region):
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A region-based consultation is between two regional groups."),
            field="basis",
        )
    if interaction not in INTERACTIONS:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Say what kind of interaction it is: open debate, statements or comments."),
            field="format",
        )
    check_time(starts_at, minutes, now=now)
    if not 1 <= seats_per_side <= SEATS_PER_SIDE_MAX:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Seats per side are from 1 to {max}."),
            field="seats_per_side",
            params={"max": SEATS_PER_SIDE_MAX},
        )
    return clean_body(purpose, field="purpose", max_bytes=None, max_chars=PURPOSE_MAX_CHARS)


def check_time(starts_at: datetime, minutes: int, *, now: datetime) -> None:
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Times must carry a time zone offset."), field="starts_at"
        )
    if starts_at <= now:
        raise ForumError(
            ErrorCode.VALIDATION, N_("A consultation is proposed for later."), field="starts_at"
        )
    if starts_at - now > FURTHEST:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A consultation is proposed for the next three years."),
            field="starts_at",
        )
    if not SHORTEST <= timedelta(minutes=minutes) <= LONGEST_SESSION:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A consultation lasts from 15 minutes to 24 hours."),
            field="minutes",
        )


def check_answer(*, leads_awaited_side: bool, status: ConsultationStatus) -> None:
    """Accept, decline or propose another time: the side whose answer is awaited."""
    if status not in (ConsultationStatus.PROPOSED, ConsultationStatus.COUNTERED):
        raise ForumError(
            ErrorCode.CONFLICT,
            N_("This consultation is {status}: there is nothing to answer."),
            params={"status": str(status)},
        )
    if not leads_awaited_side:
        raise ForumError(
            ErrorCode.NOT_CONSULTATION_CHAIR,
            N_("Only the chair or a coordinator of the side asked may answer."),
        )


def check_decline(reason: str) -> str:
    return clean_body(reason, field="reason", max_bytes=None, max_chars=REASON_MAX_CHARS)


def check_counter(
    *, status: ConsultationStatus, starts_at: datetime, minutes: int, now: datetime
) -> None:
    """Another time is proposed once, by the invited side: a counter to a counter would
    go round; the first side accepts or declines it."""
    if status is not ConsultationStatus.PROPOSED:
        raise ForumError(
            ErrorCode.CONFLICT, N_("Another time was already proposed: accept or decline it.")
        )
    check_time(starts_at, minutes, now=now)


def check_delegation(
    *,
    leads_side: bool,
    status: ConsultationStatus,
    chosen: Sequence[int],
    seats_per_side: int,
    eligible: Collection[int],
) -> list[int]:
    """A side names its own delegation, each person once, within the seats agreed."""
    if not leads_side:
        raise ForumError(
            ErrorCode.NOT_CONSULTATION_CHAIR,
            N_("Only the chair or a coordinator of a side names its delegation."),
        )
    if status is ConsultationStatus.DECLINED:
        raise ForumError(ErrorCode.CONFLICT, N_("This consultation was declined."))
    unique = list(dict.fromkeys(chosen))
    if len(unique) > seats_per_side:
        raise ForumError(
            ErrorCode.DELEGATION_TOO_LARGE,
            N_("A delegation has at most {seats} people, the seats agreed."),
            field="delegates",
            params={"seats": seats_per_side},
        )
    if not set(unique) <= set(eligible):
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A delegation is made of members of its own group."),
            field="delegates",
        )
    return unique


def check_may_open(status: ConsultationStatus) -> None:
    """A consultation is held once the other side has accepted it."""
    if status is not ConsultationStatus.ACCEPTED:
        raise ForumError(
            ErrorCode.CONFLICT,
            N_("This consultation is {status}: it opens once both sides have agreed."),
            params={"status": str(status)},
        )
