"""Which groups take part in a session.

Every question of the kind "whose session is this?" goes through `groups_taking_part`:
whose chairs keep its minutes and follow-ups, which groups a follow-up may be given to,
whose calendar lists it. A session of a group's room has that group; a session that
brings two parties together names the other side as well (`other_sides`), in the order
given, the room's group first.
"""

from __future__ import annotations

from collections.abc import Iterable

from forum.domain.sessions import can_chair
from forum.domain.vocabulary import Role


def groups_taking_part(room_group_id: int | None, other_sides: Iterable[int] = ()) -> list[int]:
    """The ids of the groups taking part, each once, the room's group first."""
    found: list[int] = []
    for group_id in (room_group_id, *other_sides):
        if group_id is not None and group_id not in found:
            found.append(group_id)
    return found


def chairs_a_party(roles: Iterable[Role | None], *, is_secretariat: bool) -> bool:
    """Whether someone with these roles (one per group taking part) leads one of the
    parties: a chair or coordinator of one of them, or the secretariat standing in."""
    return is_secretariat or any(can_chair(role, is_secretariat=False) for role in roles)
