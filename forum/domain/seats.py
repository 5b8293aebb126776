"""Seats: how a person sits in a room, and the observer seat policy.

Who may take which seat:

| person                                          | participant | remote | observer |
| ----------------------------------------------- | ----------- | ------ | -------- |
| chair, coordinator, member, contact point       | yes         | yes    | no       |
| secretariat (members or not)                    | yes         | yes    | no       |
| observer member, non-member                     | no          | no     | by policy|

Members join to take part; one who only wants to listen stays silent on a participant
seat rather than take one of the few observer seats. Observer seats are for people
with no speaking right in the group (a non-member of a governmental working group, for
instance): they see and hear everything, the room shows them, and they never speak.

The room's observer policy says how many observer seats each stakeholder family has.
The default is the one the seeds ask for: "the silent presence of one civil society
observer".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from forum.domain.permissions import Action, may
from forum.domain.structure import family_key
from forum.domain.vocabulary import Family, Role, Seat
from forum.errors import N_, ErrorCode, ForumError

SEATS_PER_FAMILY_MAX = 1000

_SPEAKING_SEATS = frozenset({Seat.PARTICIPANT, Seat.REMOTE})
_OBSERVER_SEATS = frozenset({Seat.OBSERVER})


@dataclass(frozen=True, slots=True)
class ObserverPolicy:
    seats: Mapping[Family, int] = field(default_factory=lambda: {Family.CIVIL_SOCIETY: 1})

    def seats_for(self, family: Family) -> int:
        return self.seats.get(family, 0)

    def to_json(self) -> dict[str, int]:
        return {str(family): self.seats[family] for family in Family if self.seats.get(family)}


DEFAULT_OBSERVER_POLICY = ObserverPolicy()


def parse_observer_policy(data: Any) -> ObserverPolicy:
    """Read a policy from JSON: `{"civil_society": 1, "private_sector": 2}`."""
    if not isinstance(data, dict):
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("The policy maps stakeholder families to seat counts."),
            field="observer_seats",
        )
    seats: dict[Family, int] = {}
    for key, count in data.items():
        family = family_key(key, field="observer_seats")
        if (
            not isinstance(count, int)
            or isinstance(count, bool)
            or not 0 <= count <= SEATS_PER_FAMILY_MAX
        ):
            raise ForumError(
                ErrorCode.VALIDATION,
                N_("Seat counts are whole numbers from 0 to {max}."),
                field="observer_seats",
                params={"max": SEATS_PER_FAMILY_MAX},
            )
        if count:
            seats[family] = count
    return ObserverPolicy(seats)


def seats_for(role: Role | None, *, is_secretariat: bool) -> frozenset[Seat]:
    """The seats open to someone with this membership role (None: not a member)."""
    if may(Action.TAKE_SPEAKING_SEAT, role, is_secretariat=is_secretariat):
        return _SPEAKING_SEATS
    # Everyone else signed in (observers, people with no role) may ask for the silent seat.
    return _OBSERVER_SEATS


def check_set_observer_policy(*, is_chair: bool) -> None:
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may change the observer seats."))


def check_take_seat(
    seat: Seat,
    *,
    user_id: int,
    family: Family,
    role: Role | None,
    is_secretariat: bool,
    policy: ObserverPolicy,
    observers: Mapping[int, Family],
) -> None:
    """Whether this person may sit on `seat` now.

    `observers` maps the people already on an observer seat to their family. Someone
    already seated (a second tab, a reconnect) keeps their seat.
    """
    allowed = seats_for(role, is_secretariat=is_secretariat)
    if seat not in allowed:
        if seat is Seat.OBSERVER:
            raise ForumError(
                ErrorCode.FORBIDDEN, N_("Members take part from a participant or remote seat.")
            )
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_("Only members of this group may take part; you may ask for an observer seat."),
        )
    if seat is not Seat.OBSERVER or user_id in observers:
        return
    total = policy.seats_for(family)
    if total == 0:
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_("This room has no observer seats for {family}."),
            params={"family": family.value},
        )
    taken = sum(1 for other in observers.values() if other is family)
    if taken >= total:
        raise ForumError(
            ErrorCode.NO_SEAT,
            N_("No observer seat is free for {family} ({seats} in all); try again later."),
            seats=total,
            params={"family": family.value},
        )


def may_speak(role: Role | None, *, is_secretariat: bool) -> bool:
    """Whether this role keeps a hand in the queue and the floor."""
    return Seat.PARTICIPANT in seats_for(role, is_secretariat=is_secretariat)


def check_seat_held(seat: Seat, *, role: Role | None, is_secretariat: bool) -> None:
    """The seat a connection took at join still matches the person's role now.

    A change of role reseats people as it commits, but the seat a connection remembers
    is not proof: the notice may not have reached its worker yet, or may be lost.
    """
    if seat not in seats_for(role, is_secretariat=is_secretariat):
        raise ForumError(
            ErrorCode.SEAT_REVOKED,
            N_(
                "Your role in this group has changed: this seat is no longer yours. "
                "Join the room again."
            ),
        )


def seat_after_change(
    seat: Seat,
    *,
    user_id: int,
    family: Family,
    role: Role | None,
    is_secretariat: bool,
    policy: ObserverPolicy,
    observers: Mapping[int, Family],
) -> Seat | None:
    """The seat someone holds once their role in the group is `role` (None: they left
    or were removed), or None when their seat ends.

    A seat the new role allows is kept. Someone still in the group moves to the seat
    their role allows: a member made observer to an observer seat if the room's policy
    has one free for their family, an observer made member to a participant seat.
    Someone no longer in the group leaves the room: they may ask for an observer seat,
    but one of the few is not taken for them unasked.
    """
    allowed = seats_for(role, is_secretariat=is_secretariat)
    if seat in allowed:
        return seat
    if role is None:
        return None
    if Seat.PARTICIPANT in allowed:
        return Seat.PARTICIPANT
    try:
        check_take_seat(
            Seat.OBSERVER,
            user_id=user_id,
            family=family,
            role=role,
            is_secretariat=is_secretariat,
            policy=policy,
            observers=observers,
        )
    except ForumError:
        return None
    return Seat.OBSERVER


def check_watch(*, signed_in: bool, seat: Seat | None) -> None:
    """Who may join on a seat, and who as a spectator (`seat` None).

    Spectators are counted, never listed, so only people without an account watch that
    way: someone signed in is shown to the room on the seat their standing allows.
    """
    if signed_in and seat is None:
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_(
                "Signed in, you join on a seat (participant, remote or observer), so that the "
                "room sees who is there."
            ),
        )
    if not signed_in and seat is not None:
        raise ForumError(
            ErrorCode.UNAUTHENTICATED,
            N_("Sign in to take a seat; signed out, you may join as a spectator."),
        )
