"""The membership and bureau rules, role by role and kind by kind."""

from __future__ import annotations

import pytest

from forum.domain.bureaus import check_bureau_sizes, counts
from forum.domain.membership import (
    GroupFacts,
    can_manage,
    check_assign_role,
    check_self_join,
    self_join_role,
    speaks_for,
)
from forum.domain.vocabulary import Family, GroupKind, Role
from forum.errors import ErrorCode, ForumError

CS, GOV, BIZ, IO = (
    Family.CIVIL_SOCIETY,
    Family.GOVERNMENT,
    Family.PRIVATE_SECTOR,
    Family.INTERNATIONAL_ORG,
)


@pytest.mark.parametrize(
    ("kind", "group_family", "family", "expected"),
    [
        (GroupKind.CAUCUS, CS, CS, Role.MEMBER),
        (GroupKind.CAUCUS, CS, GOV, Role.OBSERVER),
        (GroupKind.CAUCUS, CS, BIZ, Role.OBSERVER),
        (GroupKind.WORKING_GROUP, GOV, GOV, Role.MEMBER),
        (GroupKind.WORKING_GROUP, GOV, CS, Role.OBSERVER),
        (GroupKind.WORKING_GROUP, GOV, IO, Role.OBSERVER),
        (GroupKind.PLENARY, CS, CS, Role.MEMBER),
        (GroupKind.PLENARY, CS, BIZ, Role.OBSERVER),
    ],
)
def test_self_join_gives_member_of_ones_own_family_and_observer_of_others(
    kind: GroupKind, group_family: Family, family: Family, expected: Role
) -> None:
    assert self_join_role(GroupFacts(kind, group_family), family) == expected
    assert check_self_join(GroupFacts(kind, group_family), family, None) == expected
    assert check_self_join(GroupFacts(kind, group_family), family, Role.OBSERVER) == Role.OBSERVER


@pytest.mark.parametrize("kind", [GroupKind.BUREAU, GroupKind.TEAM])
@pytest.mark.parametrize("family", list(Family))
def test_bureaus_and_teams_are_appointed(kind: GroupKind, family: Family) -> None:
    with pytest.raises(ForumError) as error:
        check_self_join(GroupFacts(kind, family), family, None)
    assert error.value.code == ErrorCode.FORBIDDEN


@pytest.mark.parametrize("requested", [Role.CHAIR, Role.COORDINATOR, Role.CONTACT_POINT])
def test_self_join_cannot_take_a_leading_role(requested: Role) -> None:
    with pytest.raises(ForumError) as error:
        check_self_join(GroupFacts(GroupKind.CAUCUS, CS), CS, requested)
    assert error.value.field == "role"


def test_an_outsider_cannot_ask_for_membership() -> None:
    with pytest.raises(ForumError) as error:
        check_self_join(GroupFacts(GroupKind.WORKING_GROUP, GOV), CS, Role.MEMBER)
    assert error.value.code is ErrorCode.FORBIDDEN


ROLES: list[Role | None] = [None, *Role]


@pytest.mark.parametrize("actor_role", ROLES)
@pytest.mark.parametrize("new_role", list(Role))
@pytest.mark.parametrize("current_role", ROLES)
def test_who_may_assign_which_role(
    actor_role: Role | None, new_role: Role, current_role: Role | None
) -> None:
    check_assign_role(
        is_secretariat=True, actor_role=actor_role, new_role=new_role, current_role=current_role
    )
    allowed = actor_role == Role.CHAIR and Role.CHAIR not in (new_role, current_role)
    if allowed:
        check_assign_role(
            is_secretariat=False,
            actor_role=actor_role,
            new_role=new_role,
            current_role=current_role,
        )
    else:
        with pytest.raises(ForumError) as error:
            check_assign_role(
                is_secretariat=False,
                actor_role=actor_role,
                new_role=new_role,
                current_role=current_role,
            )
        assert error.value.code == ErrorCode.FORBIDDEN
    assert can_manage(is_secretariat=False, actor_role=actor_role) == (actor_role == Role.CHAIR)
    assert can_manage(is_secretariat=True, actor_role=actor_role)


@pytest.mark.parametrize("role", ROLES)
def test_chairs_and_coordinators_speak_for_their_group(role: Role | None) -> None:
    assert speaks_for(role) == (role in {Role.CHAIR, Role.COORDINATOR})
    assert counts(role) == (role not in {None, Role.OBSERVER})


@pytest.mark.parametrize(
    ("sizes", "refused"),
    [
        ({GOV: 3, CS: 3, BIZ: 3}, False),
        ({GOV: 3, CS: 4, BIZ: 0}, True),
        ({GOV: 3, CS: 0, BIZ: 4}, True),
        ({GOV: 0, CS: 1}, True),
        ({CS: 9, BIZ: 9}, False),  # no governmental bureau: nothing to compare with
        ({GOV: 2, CS: 2}, False),
        ({GOV: 5, IO: 9}, False),  # only the civil society and business bureaus are capped
    ],
)
def test_paragraph_27a_bureau_sizes(sizes: dict[Family, int], refused: bool) -> None:
    if refused:
        with pytest.raises(ForumError) as error:
            check_bureau_sizes(sizes)
        assert error.value.code == ErrorCode.BUREAU_LIMIT
        assert "governmental bureau" in error.value.message
    else:
        check_bureau_sizes(sizes)
