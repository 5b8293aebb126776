"""Consultations: proposing one, the other side's answer, each side's delegation.

Every change locks the consultation's room (so two answers cannot cross), checks the
rules of `forum/domain/consultations.py`, writes, and appends a `consultation` event
to the room, published after commit: whoever has the meeting's page or room open
sees the change, and the room's log keeps each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.meetings import MeetingDraft, make_meeting, name_person, prepared
from forum.actions.outbox import Outbox, committing
from forum.actions.room_reads import locked
from forum.actions.room_state import calendar_facts, mark_revised
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.events import append_event
from forum.db.models import (
    Consultation,
    Meeting,
    MeetingPerson,
    Membership,
    Room,
    RoomSession,
    User,
)
from forum.db.queries import require_group, role_in
from forum.domain import consultations as rules
from forum.domain.consultations import Basis, ConsultationStatus
from forum.domain.meetings import MeetingKind, MeetingRole
from forum.domain.sessions import SessionStatus
from forum.domain.speaking import QueuePolicy
from forum.errors import N_, ErrorCode, ForumError
from forum.wire.events import ConsultationChanged, ConsultationInfo


@dataclass(frozen=True)
class Proposal:
    host: str
    guest: str
    basis: Basis
    purpose: str
    seats_per_side: int
    minutes: int
    meeting: MeetingDraft


def consultation_wire(row: Consultation) -> ConsultationInfo:
    return {
        "status": row.status,
        "awaiting": row.awaiting_group_id,
        "seats_per_side": row.seats_per_side,
        "short_notice": row.short_notice,
        "decline_reason": row.decline_reason,
        "counter_starts_at": row.counter_starts_at.isoformat() if row.counter_starts_at else None,
        "counter_ends_at": row.counter_ends_at.isoformat() if row.counter_ends_at else None,
    }


async def do_propose_consultation(
    session: AsyncSession, broker: Broker, *, user: User, proposal: Proposal, min_notice_days: int
) -> Meeting:
    """Propose a consultation from `proposal.host` to `proposal.guest`; the proposer
    chairs it for the host side."""
    draft, agenda_html = await prepared(proposal.meeting)
    async with committing(session, broker) as outbox:
        host = await require_group(session, proposal.host, field="host")
        guest = await require_group(session, proposal.guest, field="guest")
        now = utcnow()
        purpose = rules.check_propose(
            leads_host=rules.leads(await role_in(session, host.id, user.id)),
            host_id=host.id,
            guest_id=guest.id,
            basis=proposal.basis,
            host_region=host.region,
            guest_region=guest.region,
            interaction=draft.format,
            purpose=proposal.purpose,
            starts_at=draft.starts_at,
            minutes=proposal.minutes,
            seats_per_side=proposal.seats_per_side,
            now=now,
        )
        draft = MeetingDraft(
            draft.title,
            draft.agenda,
            draft.starts_at,
            draft.starts_at + timedelta(minutes=proposal.minutes),
            draft.format,
        )
        meeting, room, _row = await make_meeting(
            session,
            outbox,
            kind=MeetingKind.CONSULTATION,
            user=user,
            draft=draft,
            agenda_html=agenda_html,
            policy=QueuePolicy.ALTERNATING,
        )
        notice = rules.notice_given(now, draft.starts_at)
        row = Consultation(
            meeting_id=meeting.id,
            basis=proposal.basis.value,
            purpose=purpose,
            host_group_id=host.id,
            guest_group_id=guest.id,
            seats_per_side=proposal.seats_per_side,
            status=ConsultationStatus.PROPOSED.value,
            awaiting_group_id=guest.id,
            decline_reason="",
            noticed_at=now,
            short_notice=rules.is_short_notice(notice, min_days=min_notice_days),
        )
        session.add(row)
        name_person(session, meeting, user.id, MeetingRole.CHAIR, by=user, side=host.id)
        await _changed(session, outbox, room, meeting, row, "propose", user)
    return meeting


async def _changed(
    session: AsyncSession,
    outbox: Outbox,
    room: Room,
    meeting: Meeting,
    row: Consultation,
    op: str,
    user: User,
    *,
    side: int | None = None,
    delegates: list[int] | None = None,
) -> None:
    data: ConsultationChanged = {"meeting": meeting.id, "consultation": consultation_wire(row)}
    # A delegation names its side and the people it sends.
    if side is not None:
        data["side"] = side
    if delegates is not None:
        data["delegates"] = delegates
    event = await append_event(
        session, room, "consultation", op, data, actor_id=user.id, session_id=meeting.session_id
    )
    outbox.event(event)


async def _locked_consultation(
    session: AsyncSession, meeting_id: int
) -> tuple[Meeting, Room, Consultation, RoomSession]:
    meeting = await session.get(Meeting, meeting_id, populate_existing=True)
    if meeting is None or meeting.kind != MeetingKind.CONSULTATION.value:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such consultation."))
    room = await locked(session, meeting.room_id)
    row = await session.get(Consultation, meeting.id, populate_existing=True)
    held = await session.get(RoomSession, meeting.session_id, populate_existing=True)
    assert row is not None and held is not None  # noqa: S101 - made with the meeting
    return meeting, room, row, held


async def _seat_chair(session: AsyncSession, meeting: Meeting, user: User, side: int) -> None:
    """Whoever answers for a side chairs the meeting for it."""
    named = await session.get(MeetingPerson, (meeting.id, user.id))
    if named is None:
        name_person(session, meeting, user.id, MeetingRole.CHAIR, by=user, side=side)
    else:
        named.role, named.side_group_id = MeetingRole.CHAIR.value, side


async def do_answer_consultation(
    session: AsyncSession,
    broker: Broker,
    meeting_id: int,
    *,
    user: User,
    answer: str,
    reason: str = "",
    starts_at: datetime | None = None,
    minutes: int | None = None,
    min_notice_days: int = 14,
) -> Consultation:
    """Accept, decline (with a reason) or, for the invited side, propose another time."""
    async with committing(session, broker) as outbox:
        meeting, room, row, held = await _locked_consultation(session, meeting_id)
        awaited = row.awaiting_group_id
        role = await role_in(session, awaited, user.id) if awaited is not None else None
        status = ConsultationStatus(row.status)
        rules.check_answer(leads_awaited_side=rules.leads(role), status=status)
        assert awaited is not None  # noqa: S101 - an answerable consultation awaits a side
        now = utcnow()
        before = calendar_facts(held)
        if answer == "accept":
            if status is ConsultationStatus.COUNTERED:
                assert row.counter_starts_at and row.counter_ends_at  # noqa: S101
                held.starts_at, held.ends_at = row.counter_starts_at, row.counter_ends_at
            row.status = ConsultationStatus.ACCEPTED.value
        elif answer == "decline":
            row.decline_reason = rules.check_decline(reason)
            row.status = ConsultationStatus.DECLINED.value
            # It will not be held: calendars that listed it learn it is off.
            held.status = SessionStatus.CANCELLED.value
        elif answer == "counter":
            if starts_at is None or minutes is None:
                raise ForumError(
                    ErrorCode.VALIDATION, N_("Propose a start and a length."), field="starts_at"
                )
            rules.check_counter(status=status, starts_at=starts_at, minutes=minutes, now=now)
            row.counter_starts_at = starts_at
            row.counter_ends_at = starts_at + timedelta(minutes=minutes)
            row.noticed_at = now
            row.short_notice = rules.is_short_notice(
                rules.notice_given(now, starts_at), min_days=min_notice_days
            )
            row.status = ConsultationStatus.COUNTERED.value
        else:
            raise ForumError(
                ErrorCode.VALIDATION, N_("Accept, decline or propose another time."), field="answer"
            )
        mark_revised(held, before)
        row.awaiting_group_id = row.host_group_id if answer == "counter" else None
        row.decided_at = None if answer == "counter" else now
        await _seat_chair(session, meeting, user, awaited)
        await _changed(session, outbox, room, meeting, row, answer, user)
    return row


async def do_name_delegation(
    session: AsyncSession,
    broker: Broker,
    meeting_id: int,
    *,
    user: User,
    side: str,
    user_ids: Sequence[int],
) -> list[int]:
    """A side names its delegation, replacing the one it named before."""
    async with committing(session, broker) as outbox:
        meeting, room, row, _held = await _locked_consultation(session, meeting_id)
        group = await require_group(session, side, field="side")
        if group.id not in rules.groups_taking_part(row.host_group_id, row.guest_group_id):
            raise ForumError(
                ErrorCode.VALIDATION,
                N_("That group is not a side of this consultation."),
                field="side",
            )
        eligible = (
            await session.scalars(
                select(Membership.user_id).where(
                    Membership.group_id == group.id,
                    Membership.role.in_([role.value for role in rules.DELEGATE_ROLES]),
                )
            )
        ).all()
        chosen = rules.check_delegation(
            leads_side=rules.leads(await role_in(session, group.id, user.id)),
            status=ConsultationStatus(row.status),
            chosen=user_ids,
            seats_per_side=row.seats_per_side,
            eligible=eligible,
        )
        await session.execute(
            delete(MeetingPerson).where(
                MeetingPerson.meeting_id == meeting.id,
                MeetingPerson.side_group_id == group.id,
                MeetingPerson.role == MeetingRole.DELEGATE.value,
            )
        )
        seated = set(
            (
                await session.scalars(
                    select(MeetingPerson.user_id).where(MeetingPerson.meeting_id == meeting.id)
                )
            ).all()
        )
        for user_id in chosen:
            if user_id not in seated:  # a chair named to the delegation keeps the chair
                name_person(session, meeting, user_id, MeetingRole.DELEGATE, by=user, side=group.id)
        await _changed(
            session, outbox, room, meeting, row, "delegation", user, side=group.id, delegates=chosen
        )
    return chosen
