"""The permission table, standing by standing and action by action."""

from __future__ import annotations

import pytest

from forum.domain.permissions import (
    PERMISSIONS,
    Action,
    Standing,
    allowed,
    may,
    standing,
    standings,
)
from forum.domain.vocabulary import Role

A, S = Action, Standing
# The expected table, written out in full so that any change to it is a visible change.
#               anon   reg    obs    member contact coord  chair  secr
EXPECTED: dict[Action, tuple[bool, ...]] = {
    A.MANAGE_MEMBERS: (False, False, False, False, False, False, True, True),
    A.APPOINT_CHAIR: (False, False, False, False, False, False, False, True),
    A.KEEP_STRUCTURE: (False, False, False, False, False, False, False, True),
    A.POST: (False, True, True, True, True, True, True, True),
    A.POST_POSITION: (False, False, False, False, False, True, True, False),
    A.COSIGN: (False, False, False, False, False, True, True, False),
    A.MODERATE: (False, False, False, False, False, False, True, True),
    A.TAKE_SPEAKING_SEAT: (False, False, False, True, True, True, True, True),
    A.TAKE_OBSERVER_SEAT: (False, True, True, False, False, False, False, False),
    A.RUN_SESSION: (False, False, False, False, False, True, True, True),
    A.CALL_BRIEFING: (False, False, False, False, False, False, True, True),
    A.ARRANGE_CONSULTATION: (False, False, False, False, False, True, True, False),
}
ORDER = [
    S.ANONYMOUS,
    S.REGISTERED,
    S.OBSERVER,
    S.MEMBER,
    S.CONTACT_POINT,
    S.COORDINATOR,
    S.CHAIR,
    S.SECRETARIAT,
]


def test_every_action_has_a_row() -> None:
    assert set(EXPECTED) == set(Action) == set(PERMISSIONS)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("held", ORDER)
def test_the_table(action: Action, held: Standing) -> None:
    assert allowed(action, held) is EXPECTED[action][ORDER.index(held)]


@pytest.mark.parametrize(
    ("role", "signed_in", "secretariat", "expected"),
    [
        (None, False, False, S.ANONYMOUS),
        (Role.CHAIR, False, True, S.ANONYMOUS),
        (None, True, False, S.REGISTERED),
        (Role.OBSERVER, True, True, S.SECRETARIAT),
        *[(role, True, False, Standing(role.value)) for role in Role],
    ],
)
def test_standing_of_a_person(
    role: Role | None, signed_in: bool, secretariat: bool, expected: Standing
) -> None:
    assert standing(role, signed_in=signed_in, is_secretariat=secretariat) is expected


def test_several_roles_allow_what_any_of_them_allows() -> None:
    observer_only = standings([Role.OBSERVER])
    assert allowed(A.POST, *observer_only)
    assert not allowed(A.TAKE_SPEAKING_SEAT, *observer_only)
    assert allowed(A.POST, *standings([Role.OBSERVER, Role.MEMBER]))
    assert allowed(A.POST, *standings([]))
    assert standings([Role.MEMBER], signed_in=False) == {S.ANONYMOUS}
    assert standings([Role.OBSERVER], is_secretariat=True) == {S.SECRETARIAT}
    assert may(A.RUN_SESSION, Role.COORDINATOR)
    assert not may(A.RUN_SESSION, Role.MEMBER)
    assert may(A.RUN_SESSION, None, is_secretariat=True)
