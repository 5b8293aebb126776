from __future__ import annotations

from typing import Any

import pytest

from forum.domain.seats import (
    DEFAULT_OBSERVER_POLICY,
    SEATS_PER_FAMILY_MAX,
    ObserverPolicy,
    check_seat_held,
    check_set_observer_policy,
    check_take_seat,
    check_watch,
    may_speak,
    parse_observer_policy,
    seat_after_change,
    seats_for,
)
from forum.domain.vocabulary import Family, Role, Seat
from forum.errors import ErrorCode, ForumError

GOV, CS, PS, IO = (
    Family.GOVERNMENT,
    Family.CIVIL_SOCIETY,
    Family.PRIVATE_SECTOR,
    Family.INTERNATIONAL_ORG,
)
SPEAKING = {Seat.PARTICIPANT, Seat.REMOTE}


@pytest.mark.parametrize(
    ("role", "secretariat", "expected"),
    [
        (Role.CHAIR, False, SPEAKING),
        (Role.COORDINATOR, False, SPEAKING),
        (Role.MEMBER, False, SPEAKING),
        (Role.CONTACT_POINT, False, SPEAKING),
        (Role.OBSERVER, False, {Seat.OBSERVER}),
        (None, False, {Seat.OBSERVER}),
        (None, True, SPEAKING),
        (Role.OBSERVER, True, SPEAKING),
    ],
)
def test_seats_for(role: Role | None, secretariat: bool, expected: set[Seat]) -> None:
    assert seats_for(role, is_secretariat=secretariat) == expected


def take(
    seat: Seat,
    *,
    role: Role | None = None,
    family: Family = CS,
    user_id: int = 10,
    policy: ObserverPolicy = DEFAULT_OBSERVER_POLICY,
    observers: dict[int, Family] | None = None,
    secretariat: bool = False,
) -> ErrorCode | None:
    try:
        check_take_seat(
            seat,
            user_id=user_id,
            family=family,
            role=role,
            is_secretariat=secretariat,
            policy=policy,
            observers=observers or {},
        )
    except ForumError as error:
        return error.code
    return None


ROLES: list[Role | None] = [*Role, None]


def seat_matrix() -> list[tuple[Role | None, Seat, ErrorCode | None]]:
    cases: list[tuple[Role | None, Seat, ErrorCode | None]] = []
    for role in ROLES:
        member = role not in (Role.OBSERVER, None)
        for seat in Seat:
            if seat is Seat.OBSERVER:
                cases.append((role, seat, ErrorCode.FORBIDDEN if member else None))
            else:
                cases.append((role, seat, None if member else ErrorCode.FORBIDDEN))
    return cases


@pytest.mark.parametrize(("role", "seat", "expected"), seat_matrix())
def test_role_by_seat(role: Role | None, seat: Seat, expected: ErrorCode | None) -> None:
    assert take(seat, role=role) == expected


def test_secretariat_sits_as_participant() -> None:
    assert take(Seat.REMOTE, secretariat=True) is None
    assert take(Seat.OBSERVER, secretariat=True) is ErrorCode.FORBIDDEN


@pytest.mark.parametrize(
    ("family", "policy", "observers", "expected"),
    [
        (CS, DEFAULT_OBSERVER_POLICY, {}, None),
        (CS, DEFAULT_OBSERVER_POLICY, {11: CS}, ErrorCode.NO_SEAT),
        (CS, DEFAULT_OBSERVER_POLICY, {10: CS}, None),  # already seated: keeps the seat
        (GOV, DEFAULT_OBSERVER_POLICY, {}, ErrorCode.FORBIDDEN),
        (PS, ObserverPolicy({CS: 1, PS: 2}), {11: CS, 12: PS}, None),
        (PS, ObserverPolicy({CS: 1, PS: 2}), {12: PS, 13: PS}, ErrorCode.NO_SEAT),
        (CS, ObserverPolicy({CS: 1, PS: 2}), {12: PS, 13: PS}, None),
        (CS, ObserverPolicy({}), {}, ErrorCode.FORBIDDEN),
    ],
)
def test_observer_quota(
    family: Family,
    policy: ObserverPolicy,
    observers: dict[int, Family],
    expected: ErrorCode | None,
) -> None:
    assert take(Seat.OBSERVER, family=family, policy=policy, observers=observers) == expected


def test_no_seat_refusal_says_how_many() -> None:
    with pytest.raises(ForumError) as caught:
        check_take_seat(
            Seat.OBSERVER,
            user_id=2,
            family=CS,
            role=None,
            is_secretariat=False,
            policy=DEFAULT_OBSERVER_POLICY,
            observers={1: CS},
        )
    assert caught.value.status == 409
    assert caught.value.body()["seats"] == 1


def test_default_policy_is_one_civil_society_seat() -> None:
    assert DEFAULT_OBSERVER_POLICY.to_json() == {"civil_society": 1}
    assert DEFAULT_OBSERVER_POLICY.seats_for(CS) == 1
    assert DEFAULT_OBSERVER_POLICY.seats_for(GOV) == 0


def test_parse_policy_round_trips() -> None:
    policy = parse_observer_policy({"private_sector": 2, "civil_society": 1, "government": 0})
    assert policy.seats == {PS: 2, CS: 1}
    assert policy.to_json() == {"civil_society": 1, "private_sector": 2}
    assert parse_observer_policy(policy.to_json()) == policy


@pytest.mark.parametrize(
    "data",
    [
        [],
        "civil_society",
        None,
        {"martians": 1},
        {"civil_society": -1},
        {"civil_society": SEATS_PER_FAMILY_MAX + 1},
        {"civil_society": "1"},
        {"civil_society": True},
        {"civil_society": 1.5},
    ],
)
def test_parse_policy_refuses(data: Any) -> None:
    with pytest.raises(ForumError) as caught:
        parse_observer_policy(data)
    assert caught.value.code is ErrorCode.VALIDATION
    assert caught.value.field == "observer_seats"


def test_only_the_chair_sets_the_policy() -> None:
    check_set_observer_policy(is_chair=True)
    with pytest.raises(ForumError) as caught:
        check_set_observer_policy(is_chair=False)
    assert caught.value.code is ErrorCode.FORBIDDEN


# -- a change of standing --------------------------------------------------------------

P, R, OBS = Seat.PARTICIPANT, Seat.REMOTE, Seat.OBSERVER


@pytest.mark.parametrize(
    ("seat", "role", "family", "observers", "secretariat", "expected"),
    [
        # Still allowed: kept as it is.
        (R, Role.CONTACT_POINT, GOV, {}, False, R),
        (P, Role.MEMBER, GOV, {}, False, P),  # a chair who is now a member
        (OBS, None, CS, {10: CS}, False, OBS),  # an observer member who left
        (P, None, GOV, {}, True, P),  # the secretariat needs no membership
        # Left or removed: out of the room, no observer seat taken for them.
        (P, None, CS, {}, False, None),
        (R, None, GOV, {}, False, None),
        # Made observer: an observer seat, if their family has one free.
        (P, Role.OBSERVER, CS, {}, False, OBS),
        (R, Role.OBSERVER, CS, {10: CS}, False, OBS),  # their other tab holds it already
        (P, Role.OBSERVER, CS, {11: CS}, False, None),
        (P, Role.OBSERVER, GOV, {}, False, None),
        # Made member: from the observer seat to a participant's.
        (OBS, Role.MEMBER, CS, {10: CS}, False, P),
    ],
)
def test_seat_after_a_change_of_role(
    seat: Seat,
    role: Role | None,
    family: Family,
    observers: dict[int, Family],
    secretariat: bool,
    expected: Seat | None,
) -> None:
    after = seat_after_change(
        seat,
        user_id=10,
        family=family,
        role=role,
        is_secretariat=secretariat,
        policy=DEFAULT_OBSERVER_POLICY,
        observers=observers,
    )
    assert after == expected
    if after is not None:
        assert after in seats_for(role, is_secretariat=secretariat)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("seat", list(Seat))
def test_a_seat_is_held_only_while_the_role_allows_it(seat: Seat, role: Role | None) -> None:
    allowed = seat in seats_for(role, is_secretariat=False)
    if allowed:
        check_seat_held(seat, role=role, is_secretariat=False)
    else:
        with pytest.raises(ForumError) as caught:
            check_seat_held(seat, role=role, is_secretariat=False)
        assert caught.value.code is ErrorCode.SEAT_REVOKED and caught.value.status == 403
    check_seat_held(P, role=role, is_secretariat=True)


def test_who_keeps_a_hand() -> None:
    assert [role for role in ROLES if may_speak(role, is_secretariat=False)] == [
        Role.CHAIR,
        Role.COORDINATOR,
        Role.MEMBER,
        Role.CONTACT_POINT,
    ]
    assert may_speak(None, is_secretariat=True)


@pytest.mark.parametrize(
    ("signed_in", "seat", "code"),
    [
        (False, None, None),
        (True, Seat.REMOTE, None),
        (True, None, ErrorCode.FORBIDDEN),
        (False, Seat.OBSERVER, ErrorCode.UNAUTHENTICATED),
    ],
)
def test_signed_out_people_watch_and_signed_in_ones_take_a_seat(
    signed_in: bool, seat: Seat | None, code: ErrorCode | None
) -> None:
    if code is None:
        check_watch(signed_in=signed_in, seat=seat)
        return
    with pytest.raises(ForumError) as caught:
        check_watch(signed_in=signed_in, seat=seat)
    assert caught.value.code is code
