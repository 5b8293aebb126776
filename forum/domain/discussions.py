"""Who may do what in an action line's discussion, given facts about the person.

The forum is open: every registered person may open threads and reply on every action
line and theme, whatever their stakeholder family and whatever their memberships. An
observer membership (the silent seat in another family's group) limits what a person
does in that group's room, never in the discussion: civil society are participants in
the forum, not observers of it (seed 001, section 2.2). One tie changes things on a
board:

- A **moderator** of a board is the chair of a group that follows its action line, or
  the secretariat. Moderators lock threads, delete others' posts, and may still post
  in a locked thread (to say why it was locked).

Positions speak for a group, so they are posted and co-signed only by its chair or
coordinator (`membership.speaks_for`), whatever their tie to the board.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from forum.domain.membership import speaks_for
from forum.domain.permissions import Action, Standing, allowed, may, standings
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError

# Replies nest; past this depth a reply is shown at the depth of its parent, with a
# link to what it answers, so that long exchanges stay readable on a phone.
MAX_DEPTH = 12


@dataclass(frozen=True, slots=True)
class Actor:
    """What the rules need to know about the person acting on one board."""

    user_id: int | None
    is_secretariat: bool = False
    board_roles: frozenset[Role] = frozenset()
    """The person's roles in the groups that follow the board's action line."""

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    @property
    def standings(self) -> frozenset[Standing]:
        return standings(
            self.board_roles, signed_in=self.signed_in, is_secretariat=self.is_secretariat
        )

    @property
    def moderates(self) -> bool:
        return allowed(Action.MODERATE, *self.standings)


def board_actor(
    user_id: int | None, *, is_secretariat: bool = False, roles: Collection[Role] = ()
) -> Actor:
    return Actor(user_id=user_id, is_secretariat=is_secretariat, board_roles=frozenset(roles))


def _require_signed_in(actor: Actor) -> None:
    if not actor.signed_in:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to take part in the discussion."))


def _require_open(actor: Actor, *, locked: bool) -> None:
    if locked and not actor.moderates:
        raise ForumError(ErrorCode.LOCKED, N_("This thread is locked: no new posts or edits."))


def check_open_thread(actor: Actor) -> None:
    # The permission table lets every signed-in standing post (Action.POST): the forum
    # is open, and an observer seat is a room matter.
    _require_signed_in(actor)


def check_reply(actor: Actor, *, locked: bool) -> None:
    check_open_thread(actor)
    _require_open(actor, locked=locked)


def check_post_position(actor: Actor, *, role_in_group: Role | None, locked: bool) -> None:
    """A position speaks for a group: only its chair or coordinator posts it."""
    _require_signed_in(actor)
    if not speaks_for(role_in_group):
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_("Only the group's chair or coordinator may post a position on its behalf."),
            field="group",
        )
    _require_open(actor, locked=locked)


def check_edit_post(actor: Actor, *, author_id: int, deleted: bool, locked: bool) -> None:
    """Authors edit their own posts; nobody else does, so a post always says what its
    author wrote (every version stays readable)."""
    _require_signed_in(actor)
    if actor.user_id != author_id:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the author may edit a post."))
    if deleted:
        raise ForumError(ErrorCode.CONFLICT, N_("A deleted post cannot be edited."))
    _require_open(actor, locked=locked)


def check_delete_post(actor: Actor, *, author_id: int, deleted: bool, locked: bool) -> None:
    _require_signed_in(actor)
    if actor.user_id != author_id and not actor.moderates:
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_("Only the author or a moderator of this board may delete a post."),
        )
    if deleted:
        raise ForumError(ErrorCode.CONFLICT, N_("This post is already deleted."))
    _require_open(actor, locked=locked)


def check_lock_thread(actor: Actor) -> None:
    _require_signed_in(actor)
    if not actor.moderates:
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_(
                "Only a chair of a group following this action line, or the secretariat, "
                "may lock or unlock a thread."
            ),
        )


@dataclass(frozen=True, slots=True)
class PositionFacts:
    is_position: bool
    deleted: bool
    group_id: int | None
    cosigned_by: frozenset[int]


def check_cosign(
    actor: Actor, position: PositionFacts, *, group_id: int, role_in_group: Role | None
) -> None:
    """Another group co-signs a position through its chair or coordinator, once."""
    _require_signed_in(actor)
    if not position.is_position:
        raise ForumError(ErrorCode.CONFLICT, N_("Only positions can be co-signed."))
    if position.deleted:
        raise ForumError(ErrorCode.CONFLICT, N_("This position was deleted."))
    if not may(Action.COSIGN, role_in_group):
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_("Only the group's chair or coordinator may co-sign on its behalf."),
            field="group",
        )
    if group_id == position.group_id:
        raise ForumError(
            ErrorCode.CONFLICT, N_("A group cannot co-sign its own position."), field="group"
        )
    if group_id in position.cosigned_by:
        raise ForumError(
            ErrorCode.CONFLICT, N_("This group has co-signed this position already."), field="group"
        )


def check_withdraw_cosign(
    actor: Actor, position: PositionFacts, *, group_id: int, role_in_group: Role | None
) -> None:
    """A co-signature is the group's word, so whoever speaks for the group now (its
    chair or coordinator) may take it back, not only the person who signed."""
    _require_signed_in(actor)
    if not position.is_position:
        raise ForumError(ErrorCode.CONFLICT, N_("Only positions can be co-signed."))
    if position.deleted:
        raise ForumError(ErrorCode.CONFLICT, N_("This position was deleted."))
    if not may(Action.COSIGN, role_in_group):
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_("Only the group's chair or coordinator may withdraw its co-signature."),
            field="group",
        )
    if group_id not in position.cosigned_by:
        raise ForumError(
            ErrorCode.CONFLICT, N_("This group has not co-signed this position."), field="group"
        )


def reply_depth(parent_depth: int | None) -> int:
    """The depth a new post is shown at: 0 for a reply to the thread itself."""
    if parent_depth is None:
        return 0
    return min(parent_depth + 1, MAX_DEPTH)
