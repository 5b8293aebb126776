"""The discussion rules as tables: who (signed out, observer, member, chair,
coordinator, secretariat) may do what."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forum.domain.discussions import (
    MAX_DEPTH,
    Actor,
    PositionFacts,
    board_actor,
    check_cosign,
    check_delete_post,
    check_edit_post,
    check_lock_thread,
    check_open_thread,
    check_post_position,
    check_reply,
    check_withdraw_cosign,
    reply_depth,
)
from forum.domain.vocabulary import Role
from forum.errors import ErrorCode, ForumError

ME = 7
OTHER = 8

ANONYMOUS = board_actor(None)
NO_TIE = board_actor(ME)
OBSERVER = board_actor(ME, roles=[Role.OBSERVER])
OBSERVER_TWICE = board_actor(ME, roles=[Role.OBSERVER, Role.OBSERVER])
MEMBER = board_actor(ME, roles=[Role.MEMBER])
MIXED = board_actor(ME, roles=[Role.OBSERVER, Role.MEMBER])
CHAIR = board_actor(ME, roles=[Role.CHAIR])
COORDINATOR = board_actor(ME, roles=[Role.COORDINATOR])
SECRETARIAT = board_actor(ME, is_secretariat=True)
SECRETARIAT_OBSERVING = board_actor(ME, is_secretariat=True, roles=[Role.OBSERVER])

OK = None


def outcome(check: Callable[[], None]) -> ErrorCode | None:
    try:
        check()
    except ForumError as error:
        return error.code
    return OK


@pytest.mark.parametrize(
    ("actor", "moderates"),
    [
        (ANONYMOUS, False),
        (NO_TIE, False),
        (OBSERVER, False),
        (OBSERVER_TWICE, False),
        (MEMBER, False),
        (MIXED, False),
        (CHAIR, True),
        (COORDINATOR, False),
        (SECRETARIAT, True),
        (SECRETARIAT_OBSERVING, True),
    ],
)
def test_who_moderates(actor: Actor, moderates: bool) -> None:
    assert actor.moderates is moderates


@pytest.mark.parametrize(
    ("actor", "locked", "expected"),
    [
        (ANONYMOUS, False, ErrorCode.UNAUTHENTICATED),
        (NO_TIE, False, OK),
        (OBSERVER, False, OK),
        (OBSERVER_TWICE, False, OK),
        (MEMBER, False, OK),
        (MIXED, False, OK),
        (CHAIR, False, OK),
        (SECRETARIAT, False, OK),
        (NO_TIE, True, ErrorCode.LOCKED),
        (MEMBER, True, ErrorCode.LOCKED),
        (COORDINATOR, True, ErrorCode.LOCKED),
        (OBSERVER, True, ErrorCode.LOCKED),
        (CHAIR, True, OK),
        (SECRETARIAT, True, OK),
    ],
)
def test_reply(actor: Actor, locked: bool, expected: ErrorCode | None) -> None:
    assert outcome(lambda: check_reply(actor, locked=locked)) == expected


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (ANONYMOUS, ErrorCode.UNAUTHENTICATED),
        (NO_TIE, OK),
        (OBSERVER, OK),
        (MEMBER, OK),
        (SECRETARIAT_OBSERVING, OK),
    ],
)
def test_open_thread(actor: Actor, expected: ErrorCode | None) -> None:
    assert outcome(lambda: check_open_thread(actor)) == expected


@pytest.mark.parametrize(
    ("actor", "role", "locked", "expected"),
    [
        (ANONYMOUS, Role.COORDINATOR, False, ErrorCode.UNAUTHENTICATED),
        (NO_TIE, None, False, ErrorCode.FORBIDDEN),
        (NO_TIE, Role.MEMBER, False, ErrorCode.FORBIDDEN),
        (NO_TIE, Role.CONTACT_POINT, False, ErrorCode.FORBIDDEN),
        (NO_TIE, Role.OBSERVER, False, ErrorCode.FORBIDDEN),
        (NO_TIE, Role.COORDINATOR, False, OK),
        (NO_TIE, Role.CHAIR, False, OK),
        # A group's voice is not silenced by its spokesperson observing the board.
        (OBSERVER, Role.COORDINATOR, False, OK),
        (NO_TIE, Role.COORDINATOR, True, ErrorCode.LOCKED),
        (SECRETARIAT, None, False, ErrorCode.FORBIDDEN),
        (CHAIR, Role.CHAIR, True, OK),
    ],
)
def test_post_position(
    actor: Actor, role: Role | None, locked: bool, expected: ErrorCode | None
) -> None:
    assert (
        outcome(lambda: check_post_position(actor, role_in_group=role, locked=locked)) == expected
    )


@pytest.mark.parametrize(
    ("actor", "author", "deleted", "locked", "expected"),
    [
        (ANONYMOUS, ME, False, False, ErrorCode.UNAUTHENTICATED),
        (NO_TIE, ME, False, False, OK),
        (OBSERVER, ME, False, False, OK),
        (NO_TIE, OTHER, False, False, ErrorCode.FORBIDDEN),
        (CHAIR, OTHER, False, False, ErrorCode.FORBIDDEN),
        (SECRETARIAT, OTHER, False, False, ErrorCode.FORBIDDEN),
        (NO_TIE, ME, True, False, ErrorCode.CONFLICT),
        (NO_TIE, ME, False, True, ErrorCode.LOCKED),
        (CHAIR, ME, False, True, OK),
    ],
)
def test_edit(
    actor: Actor, author: int, deleted: bool, locked: bool, expected: ErrorCode | None
) -> None:
    check = lambda: check_edit_post(actor, author_id=author, deleted=deleted, locked=locked)  # noqa: E731
    assert outcome(check) == expected


@pytest.mark.parametrize(
    ("actor", "author", "deleted", "locked", "expected"),
    [
        (ANONYMOUS, ME, False, False, ErrorCode.UNAUTHENTICATED),
        (NO_TIE, ME, False, False, OK),
        (NO_TIE, OTHER, False, False, ErrorCode.FORBIDDEN),
        (MEMBER, OTHER, False, False, ErrorCode.FORBIDDEN),
        (COORDINATOR, OTHER, False, False, ErrorCode.FORBIDDEN),
        (CHAIR, OTHER, False, False, OK),
        (SECRETARIAT, OTHER, False, False, OK),
        (NO_TIE, ME, True, False, ErrorCode.CONFLICT),
        (CHAIR, OTHER, True, False, ErrorCode.CONFLICT),
        (NO_TIE, ME, False, True, ErrorCode.LOCKED),
        (SECRETARIAT, OTHER, False, True, OK),
    ],
)
def test_delete(
    actor: Actor, author: int, deleted: bool, locked: bool, expected: ErrorCode | None
) -> None:
    check = lambda: check_delete_post(actor, author_id=author, deleted=deleted, locked=locked)  # noqa: E731
    assert outcome(check) == expected


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (ANONYMOUS, ErrorCode.UNAUTHENTICATED),
        (NO_TIE, ErrorCode.FORBIDDEN),
        (OBSERVER, ErrorCode.FORBIDDEN),
        (MEMBER, ErrorCode.FORBIDDEN),
        (COORDINATOR, ErrorCode.FORBIDDEN),
        (CHAIR, OK),
        (SECRETARIAT, OK),
    ],
)
def test_lock(actor: Actor, expected: ErrorCode | None) -> None:
    assert outcome(lambda: check_lock_thread(actor)) == expected


OWN_GROUP = 1
SIGNER = 2
OTHER_SIGNER = 3
POSITION = PositionFacts(
    is_position=True, deleted=False, group_id=OWN_GROUP, cosigned_by=frozenset({OTHER_SIGNER})
)


@pytest.mark.parametrize(
    ("actor", "position", "group", "role", "expected"),
    [
        (ANONYMOUS, POSITION, SIGNER, Role.CHAIR, ErrorCode.UNAUTHENTICATED),
        (NO_TIE, POSITION, SIGNER, Role.CHAIR, OK),
        (NO_TIE, POSITION, SIGNER, Role.COORDINATOR, OK),
        (OBSERVER, POSITION, SIGNER, Role.COORDINATOR, OK),
        (NO_TIE, POSITION, SIGNER, Role.MEMBER, ErrorCode.FORBIDDEN),
        (NO_TIE, POSITION, SIGNER, Role.OBSERVER, ErrorCode.FORBIDDEN),
        (NO_TIE, POSITION, SIGNER, None, ErrorCode.FORBIDDEN),
        (SECRETARIAT, POSITION, SIGNER, None, ErrorCode.FORBIDDEN),
        (NO_TIE, POSITION, OWN_GROUP, Role.CHAIR, ErrorCode.CONFLICT),
        (NO_TIE, POSITION, OTHER_SIGNER, Role.CHAIR, ErrorCode.CONFLICT),
        (
            NO_TIE,
            PositionFacts(is_position=False, deleted=False, group_id=None, cosigned_by=frozenset()),
            SIGNER,
            Role.CHAIR,
            ErrorCode.CONFLICT,
        ),
        (
            NO_TIE,
            PositionFacts(
                is_position=True, deleted=True, group_id=OWN_GROUP, cosigned_by=frozenset()
            ),
            SIGNER,
            Role.CHAIR,
            ErrorCode.CONFLICT,
        ),
    ],
)
def test_cosign(
    actor: Actor,
    position: PositionFacts,
    group: int,
    role: Role | None,
    expected: ErrorCode | None,
) -> None:
    check = lambda: check_cosign(actor, position, group_id=group, role_in_group=role)  # noqa: E731
    assert outcome(check) == expected


@pytest.mark.parametrize(
    ("actor", "position", "group", "role", "expected"),
    [
        (ANONYMOUS, POSITION, OTHER_SIGNER, Role.CHAIR, ErrorCode.UNAUTHENTICATED),
        # Whoever speaks for the signing group now may take its word back.
        (NO_TIE, POSITION, OTHER_SIGNER, Role.CHAIR, OK),
        (OBSERVER, POSITION, OTHER_SIGNER, Role.COORDINATOR, OK),
        (NO_TIE, POSITION, OTHER_SIGNER, Role.MEMBER, ErrorCode.FORBIDDEN),
        (NO_TIE, POSITION, OTHER_SIGNER, None, ErrorCode.FORBIDDEN),
        (SECRETARIAT, POSITION, OTHER_SIGNER, None, ErrorCode.FORBIDDEN),
        (NO_TIE, POSITION, SIGNER, Role.CHAIR, ErrorCode.CONFLICT),
        (NO_TIE, POSITION, OWN_GROUP, Role.CHAIR, ErrorCode.CONFLICT),
        (
            NO_TIE,
            PositionFacts(is_position=False, deleted=False, group_id=None, cosigned_by=frozenset()),
            OTHER_SIGNER,
            Role.CHAIR,
            ErrorCode.CONFLICT,
        ),
        (
            NO_TIE,
            PositionFacts(
                is_position=True,
                deleted=True,
                group_id=OWN_GROUP,
                cosigned_by=frozenset({OTHER_SIGNER}),
            ),
            OTHER_SIGNER,
            Role.CHAIR,
            ErrorCode.CONFLICT,
        ),
    ],
)
def test_withdraw_cosign(
    actor: Actor,
    position: PositionFacts,
    group: int,
    role: Role | None,
    expected: ErrorCode | None,
) -> None:
    check = lambda: check_withdraw_cosign(actor, position, group_id=group, role_in_group=role)  # noqa: E731
    assert outcome(check) == expected


def test_refusals_say_why() -> None:
    with pytest.raises(ForumError, match="Sign in") as signed_out:
        check_reply(ANONYMOUS, locked=False)
    assert signed_out.value.status == 401
    with pytest.raises(ForumError, match="locked") as locked:
        check_reply(MEMBER, locked=True)
    assert locked.value.status == 423
    with pytest.raises(ForumError, match="own position") as own:
        check_cosign(NO_TIE, POSITION, group_id=OWN_GROUP, role_in_group=Role.CHAIR)
    assert own.value.field == "group"


@pytest.mark.parametrize(
    ("parent", "depth"),
    [(None, 0), (0, 1), (3, 4), (MAX_DEPTH - 1, MAX_DEPTH), (MAX_DEPTH, MAX_DEPTH)],
)
def test_reply_depth_is_capped(parent: int | None, depth: int) -> None:
    assert reply_depth(parent) == depth
