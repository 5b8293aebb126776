"""Who may do what: the one table of the forum's permissions.

A person's standing toward a group is their membership role in it, or `registered`
(signed in, no role), `anonymous` (signed out) or `secretariat` (keeps the structure,
site-wide). Each action lists the standings allowed to take it. The rules of each area
(`membership`, `discussions`, `sessions`, `speaking`, `seats`) ask this table, then
add what depends on state: a locked thread, a held floor, a taken seat. Reading is
not in the table: every archive is public ("all mailing archive lists must be publicly
accessible"), to everyone, signed in or not.

Someone with several roles toward a board (the groups following an action line) may act
if any of them allows it: an observer of one caucus who is a member of another still
takes part in the discussion.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from forum.domain.vocabulary import Role


class Standing(StrEnum):
    ANONYMOUS = "anonymous"
    REGISTERED = "registered"
    OBSERVER = Role.OBSERVER.value
    MEMBER = Role.MEMBER.value
    CONTACT_POINT = Role.CONTACT_POINT.value
    COORDINATOR = Role.COORDINATOR.value
    CHAIR = Role.CHAIR.value
    SECRETARIAT = "secretariat"


class Action(StrEnum):
    # structure
    MANAGE_MEMBERS = "manage_members"
    APPOINT_CHAIR = "appoint_chair"
    KEEP_STRUCTURE = "keep_structure"  # groups, action lines, family changes
    # discussions
    POST = "post"
    POST_POSITION = "post_position"
    COSIGN = "cosign"
    MODERATE = "moderate"
    # live rooms
    TAKE_SPEAKING_SEAT = "take_speaking_seat"
    TAKE_OBSERVER_SEAT = "take_observer_seat"
    RUN_SESSION = "run_session"
    # meetings of their own (forum/domain/meetings.py, consultations.py)
    CALL_BRIEFING = "call_briefing"
    ARRANGE_CONSULTATION = "arrange_consultation"  # propose, answer, name a delegation


S = Standing
_SIGNED_IN = frozenset(set(Standing) - {S.ANONYMOUS})
_MEMBERS = frozenset({S.MEMBER, S.CONTACT_POINT, S.COORDINATOR, S.CHAIR})
_LEADERS = frozenset({S.COORDINATOR, S.CHAIR})

PERMISSIONS: dict[Action, frozenset[Standing]] = {
    Action.MANAGE_MEMBERS: frozenset({S.CHAIR, S.SECRETARIAT}),
    Action.APPOINT_CHAIR: frozenset({S.SECRETARIAT}),
    Action.KEEP_STRUCTURE: frozenset({S.SECRETARIAT}),
    # The forum is open: anyone registered posts, observers of a group's room included
    # (civil society are participants in the discussion, not observers of it: seed
    # 001, 2.2). An observer membership limits what a person does in a room only.
    Action.POST: _SIGNED_IN,
    # A position speaks for a group: its chair or coordinator posts and co-signs it.
    Action.POST_POSITION: _LEADERS,
    Action.COSIGN: _LEADERS,
    Action.MODERATE: frozenset({S.CHAIR, S.SECRETARIAT}),
    Action.TAKE_SPEAKING_SEAT: _MEMBERS | {S.SECRETARIAT},
    # "The silent presence of one civil society observer", within the room's quota.
    # Raising a hand and speaking follow from the seat taken: observers never speak.
    Action.TAKE_OBSERVER_SEAT: frozenset({S.REGISTERED, S.OBSERVER}),
    Action.RUN_SESSION: _LEADERS | {S.SECRETARIAT},
    # A briefing gathers office-holders across groups: a chair or the secretariat
    # calls one (a caucus coordinator leads one group's room, not the forum's offices).
    Action.CALL_BRIEFING: frozenset({S.CHAIR, S.SECRETARIAT}),
    # A consultation is between two sides, each speaking for itself through whoever
    # leads it; the secretariat is no side and names no one ("it is up to civil
    # society itself to determine who will participate": seed 002).
    Action.ARRANGE_CONSULTATION: _LEADERS,
}


def standing(
    role: Role | None, *, signed_in: bool = True, is_secretariat: bool = False
) -> Standing:
    if not signed_in:
        return Standing.ANONYMOUS
    if is_secretariat:
        return Standing.SECRETARIAT
    return Standing.REGISTERED if role is None else Standing(role.value)


def standings(
    roles: Iterable[Role], *, signed_in: bool = True, is_secretariat: bool = False
) -> frozenset[Standing]:
    """Every standing of someone with these roles (none: registered)."""
    if not signed_in or is_secretariat:
        return frozenset({standing(None, signed_in=signed_in, is_secretariat=is_secretariat)})
    found = frozenset(Standing(role.value) for role in roles)
    return found or frozenset({Standing.REGISTERED})


def allowed(action: Action, *held: Standing) -> bool:
    """Whether any of the standings held allows the action."""
    permitted = PERMISSIONS[action]
    return any(s in permitted for s in held)


def may(
    action: Action, role: Role | None, *, signed_in: bool = True, is_secretariat: bool = False
) -> bool:
    return allowed(action, standing(role, signed_in=signed_in, is_secretariat=is_secretariat))
