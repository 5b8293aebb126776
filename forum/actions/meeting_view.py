"""Reading a meeting: what its page and the JSON API show, and what the reader may do.

A meeting's record is public whatever its transcript: its existence, date, the people
named to it and who attended, and its outcome summary. Only the transcript of a
closed briefing is withheld (`room_reads.get_transcript`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.consultations import consultation_wire
from forum.actions.room_state import person, session_wire
from forum.db.meeting_queries import people_of
from forum.db.models import Attendance, Consultation, Group, Meeting, RoomSession, User
from forum.db.queries import list_members, role_in
from forum.domain.consultations import DELEGATE_ROLES, leads, notice_given
from forum.domain.meetings import address
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError


def _group(group: Group) -> dict[str, Any]:
    return {"id": group.id, "slug": group.slug, "name": group.name, "family": group.family}


async def get_meeting(session: AsyncSession, meeting_id: int) -> dict[str, Any]:
    meeting = await session.get(Meeting, meeting_id)
    held = await session.get(RoomSession, meeting.session_id) if meeting else None
    if meeting is None or held is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such meeting."))
    people = [
        {**person(user), "role": named.role, "side": named.side_group_id}
        for named, user in await people_of(session, meeting.id)
    ]
    attended = (
        await session.execute(
            select(User)
            .join(Attendance, Attendance.user_id == User.id)
            .where(Attendance.session_id == held.id)
            .distinct()
            .order_by(User.display_name, User.id)
        )
    ).scalars()
    document: dict[str, Any] = {
        "id": meeting.id,
        "kind": meeting.kind,
        "room": address(meeting.id),
        "session": session_wire(held),
        "transcript_closed": meeting.transcript_closed,
        "outcome": meeting.outcome,
        "outcome_html": meeting.outcome_html,
        "people": people,
        "attended": [person(user) for user in attended],
        "consultation": None,
    }
    row = await session.get(Consultation, meeting.id)
    if row is not None:
        host = await session.get(Group, row.host_group_id)
        guest = await session.get(Group, row.guest_group_id)
        assert host is not None and guest is not None  # noqa: S101 - cascade with groups
        starts_at = row.counter_starts_at or held.starts_at
        document["consultation"] = {
            **consultation_wire(row),
            "basis": row.basis,
            "purpose": row.purpose,
            "host": _group(host),
            "guest": _group(guest),
            "notice_days": notice_given(row.noticed_at, starts_at).days,
            "proposed_at": row.noticed_at.isoformat(),
        }
    return document


@dataclass
class Powers:
    """What the reader may do on a meeting's page."""

    answer: bool = False
    counter: bool = False
    outcome: bool = False
    # The sides whose delegation the reader names, each with who may be named.
    delegations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


async def powers_of(session: AsyncSession, document: dict[str, Any], user: User | None) -> Powers:
    powers = Powers()
    if user is None:
        return powers
    mine = next((p for p in document["people"] if p["user_id"] == user.id), None)
    powers.outcome = mine is not None and mine["role"] == "chair"
    consultation = document["consultation"]
    if consultation is None:
        return powers
    awaiting = consultation["awaiting"]
    if awaiting is not None and leads(await role_in(session, awaiting, user.id)):
        powers.answer = True
        powers.counter = consultation["status"] == "proposed"
    if consultation["status"] == "declined":
        return powers
    for side in (consultation["host"], consultation["guest"]):
        if leads(await role_in(session, side["id"], user.id)):
            powers.delegations[side["id"]] = [
                {**person(member), "role": membership.role}
                for membership, member in await list_members(session, side["id"])
                if Role(membership.role) in DELEGATE_ROLES
            ]
    return powers
