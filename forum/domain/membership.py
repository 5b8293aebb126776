"""Who may join a group, in which role, and who may change someone's role."""

from __future__ import annotations

from dataclasses import dataclass

from forum.domain.permissions import Action, allowed, may, standing
from forum.domain.vocabulary import Family, GroupKind, Role
from forum.errors import N_, ErrorCode, ForumError

# Groups whose membership is appointed, never taken by oneself.
APPOINTED_KINDS = frozenset({GroupKind.BUREAU, GroupKind.TEAM})


@dataclass(frozen=True)
class GroupFacts:
    kind: GroupKind
    family: Family


def self_join_role(group: GroupFacts, family: Family) -> Role:
    """The role a person gets by joining on their own: member of their own family's
    groups, observer of the others' (the silent presence the seeds ask for)."""
    if group.kind in APPOINTED_KINDS:
        raise ForumError(
            ErrorCode.FORBIDDEN,
            N_("Members of a {kind} are appointed by the secretariat."),
            params={"kind": group.kind.replace("_", " ")},
        )
    return Role.MEMBER if family == group.family else Role.OBSERVER


def check_self_join(group: GroupFacts, family: Family, requested: Role | None) -> Role:
    role = self_join_role(group, family)
    if requested is None or requested == role:
        return role
    if requested == Role.OBSERVER:
        return Role.OBSERVER  # anyone may choose to only observe
    raise ForumError(
        ErrorCode.FORBIDDEN,
        N_(
            "You may join this group as {role}; other roles are given by its chair "
            "or the secretariat."
        ),
        field="role",
        params={"role": str(role)},
    )


def check_assign_role(
    *, is_secretariat: bool, actor_role: Role | None, new_role: Role, current_role: Role | None
) -> None:
    """The secretariat assigns any role; a chair manages the group except its chairs."""
    held = standing(actor_role, is_secretariat=is_secretariat)
    if not allowed(Action.MANAGE_MEMBERS, held):
        raise ForumError(
            ErrorCode.FORBIDDEN, N_("Only the group's chair or the secretariat may manage members.")
        )
    if Role.CHAIR in (new_role, current_role) and not allowed(Action.APPOINT_CHAIR, held):
        raise ForumError(
            ErrorCode.FORBIDDEN, N_("Only the secretariat appoints or removes a chair.")
        )


def can_manage(*, is_secretariat: bool, actor_role: Role | None) -> bool:
    return may(Action.MANAGE_MEMBERS, actor_role, is_secretariat=is_secretariat)


def speaks_for(role: Role | None) -> bool:
    return may(Action.POST_POSITION, role)
