"""A closed session's record: its minutes and follow-ups, written by the chairs of the
groups taking part (forum/domain/minutes.py), each change kept as a row of
`session_record_changes`.

Each write locks the session's row first, so that the two sides writing at once are
put one after the other, and the version a write was made on is checked against the
one it finds. The record is read back by `get_record`, beside the transcript. A
closed session has no live room any more: nothing is published.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.base import utcnow
from forum.db.engine import write_transaction
from forum.db.models import (
    Consultation,
    FollowUp,
    Group,
    Meeting,
    MeetingPerson,
    RecordChange,
    Room,
    RoomSession,
    SessionMinutes,
    User,
)
from forum.db.queries import role_in
from forum.domain.consultations import groups_taking_part as consultation_sides
from forum.domain.meetings import MeetingRole
from forum.domain.minutes import (
    FollowUpDraft,
    FollowUpStatus,
    changes_between,
    check_follow_up,
    check_keep_record,
    check_version,
    clean_minutes,
)
from forum.domain.session_groups import chairs_a_party, groups_taking_part
from forum.domain.sessions import SessionStatus
from forum.errors import N_, ErrorCode, ForumError
from forum.text import render_body


@dataclass(frozen=True)
class FollowUpInput:
    """A follow-up as a form or a body gives it: the owner by the group's slug."""

    item: str
    owner: str
    due: date | None
    status: FollowUpStatus = FollowUpStatus.OPEN


async def _draft(session: AsyncSession, given: FollowUpInput) -> FollowUpDraft:
    owner = await session.scalar(select(Group.id).where(Group.slug == given.owner))
    # An unknown slug is no party either: check_follow_up refuses it as such.
    return FollowUpDraft(given.item, owner if owner is not None else -1, given.due, given.status)


async def _parties(session: AsyncSession, row: RoomSession) -> list[int]:
    room_group = await session.scalar(select(Room.group_id).where(Room.id == row.room_id))
    if room_group is not None:
        return groups_taking_part(room_group)
    # A meeting's room: a consultation's two sides take part, a briefing's no group.
    sides = (
        await session.execute(
            select(Consultation.host_group_id, Consultation.guest_group_id)
            .join(Meeting, Meeting.id == Consultation.meeting_id)
            .where(Meeting.room_id == row.room_id)
        )
    ).first()
    return groups_taking_part(None, consultation_sides(*sides) if sides else ())


async def keeps_record(session: AsyncSession, row: RoomSession, user: User | None) -> bool:
    """Whether `user` may write this session's minutes and follow-ups: whoever leads a
    party, and whoever chairs the meeting the session belongs to."""
    if user is None:
        return False
    roles = [await role_in(session, group_id, user.id) for group_id in await _parties(session, row)]
    chairs_meeting = await session.scalar(
        select(MeetingPerson.user_id)
        .join(Meeting, Meeting.id == MeetingPerson.meeting_id)
        .where(
            Meeting.room_id == row.room_id,
            MeetingPerson.user_id == user.id,
            MeetingPerson.role == MeetingRole.CHAIR.value,
        )
    )
    return chairs_meeting is not None or chairs_a_party(roles, is_secretariat=user.is_secretariat)


async def _writable(
    session: AsyncSession, session_id: int, user: User
) -> tuple[RoomSession, list[int]]:
    """The session, locked for this write, and its parties; refused unless `user`
    keeps its record and it is closed."""
    row = await session.get(RoomSession, session_id, populate_existing=True, with_for_update=True)
    if row is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such session."))
    check_keep_record(
        keeps_record=await keeps_record(session, row, user), status=SessionStatus(row.status)
    )
    return row, await _parties(session, row)


def _change(
    row: RoomSession, user: User, kind: str, op: str, changes: dict[str, Any], item: int | None
) -> RecordChange:
    return RecordChange(
        session_id=row.id,
        follow_up_id=item,
        kind=kind,
        op=op,
        changes=changes,
        actor_id=user.id,
        created_at=utcnow(),
    )


async def do_write_minutes(
    session: AsyncSession,
    session_id: int,
    *,
    user: User,
    body: str,
    version: int | None,
) -> SessionMinutes:
    """Write (or rewrite) the minutes; `version` is the one the writer read (None for
    the first write, or to overwrite whatever is there)."""
    rendered = await render_body(clean_minutes(body))
    async with write_transaction(session):
        row, _parties_ = await _writable(session, session_id, user)
        minutes = await session.get(SessionMinutes, row.id, populate_existing=True)
        if minutes is None:
            check_version(current=0, based_on=version if version else None)
            minutes = SessionMinutes(session_id=row.id, body="", body_html="", version=0)
            session.add(minutes)
        else:
            check_version(current=minutes.version, based_on=version)
        before = minutes.body
        minutes.body, minutes.body_html = rendered.body, rendered.html
        minutes.version += 1
        minutes.updated_by, minutes.updated_at = user.id, utcnow()
        session.add(
            _change(row, user, "minutes", "write", {"body": [before or None, rendered.body]}, None)
        )
    return minutes


def _values(draft: FollowUpDraft) -> dict[str, Any]:
    values = asdict(draft)
    values["due"] = draft.due.isoformat() if draft.due else None
    values["status"] = draft.status.value
    return values


def _stored(item: FollowUp) -> dict[str, Any]:
    return {
        "item": item.item,
        "owner_group_id": item.owner_group_id,
        "due": item.due.isoformat() if item.due else None,
        "status": item.status,
    }


async def do_add_follow_up(
    session: AsyncSession, session_id: int, *, user: User, given: FollowUpInput
) -> FollowUp:
    async with write_transaction(session):
        row, parties = await _writable(session, session_id, user)
        clean = check_follow_up(await _draft(session, given), parties=parties)
        now = utcnow()
        item = FollowUp(
            session_id=row.id,
            item=clean.item,
            owner_group_id=clean.owner_group_id,
            due=clean.due,
            status=clean.status.value,
            version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(item)
        await session.flush()
        session.add(
            _change(row, user, "follow_up", "add", changes_between({}, _values(clean)), item.id)
        )
    return item


async def do_update_follow_up(
    session: AsyncSession,
    session_id: int,
    follow_up_id: int,
    *,
    user: User,
    given: FollowUpInput,
    version: int | None,
) -> FollowUp:
    """Change a follow-up (its item, owner, due date or status); a change that changes
    nothing is kept as nothing."""
    async with write_transaction(session):
        row, parties = await _writable(session, session_id, user)
        item = await session.get(FollowUp, follow_up_id, populate_existing=True)
        if item is None or item.session_id != row.id:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such follow-up of this session."))
        check_version(current=item.version, based_on=version)
        clean = check_follow_up(await _draft(session, given), parties=parties)
        changes = changes_between(_stored(item), _values(clean))
        if changes:
            item.item, item.owner_group_id = clean.item, clean.owner_group_id
            item.due, item.status = clean.due, clean.status.value
            item.version += 1
            item.updated_at = utcnow()
            session.add(_change(row, user, "follow_up", "edit", changes, item.id))
        return item


def _due(value: date | None) -> str | None:
    return value.isoformat() if value else None


async def get_record(
    session: AsyncSession, session_id: int, *, user: User | None = None
) -> dict[str, Any]:
    """A closed session's minutes, follow-ups and changes, oldest change first, with the
    groups a follow-up may be given to and whether `user` may write. Public, like the
    transcript; a session not closed has none (not found)."""
    row = await session.get(RoomSession, session_id)
    if row is None or row.status != SessionStatus.CLOSED.value:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such closed session."))
    parties = await _parties(session, row)
    minutes = await session.get(SessionMinutes, row.id)
    items = (
        await session.scalars(
            select(FollowUp).where(FollowUp.session_id == row.id).order_by(FollowUp.id)
        )
    ).all()
    # The parties, and the owner of a follow-up given when the parties were others.
    named = set(parties) | {item.owner_group_id for item in items}
    groups = {
        group.id: group for group in await session.scalars(select(Group).where(Group.id.in_(named)))
    }
    changes = (
        await session.execute(
            select(RecordChange, User.display_name)
            .outerjoin(User, User.id == RecordChange.actor_id)
            .where(RecordChange.session_id == row.id)
            .order_by(RecordChange.id)
        )
    ).all()
    author = (
        await session.scalar(select(User.display_name).where(User.id == minutes.updated_by))
        if minutes is not None and minutes.updated_by is not None
        else None
    )

    def group_wire(group_id: int) -> dict[str, Any]:
        group = groups.get(group_id)
        return {
            "id": group_id,
            "slug": group.slug if group else None,
            "name": group.name if group else None,
        }

    return {
        "session_id": row.id,
        "parties": [group_wire(group_id) for group_id in parties],
        "may_edit": await keeps_record(session, row, user),
        "minutes": None
        if minutes is None
        else {
            "body": minutes.body,
            "body_html": minutes.body_html,
            "version": minutes.version,
            "updated_at": minutes.updated_at.isoformat(),
            "updated_by": {"id": minutes.updated_by, "name": author}
            if minutes.updated_by
            else None,
        },
        "follow_ups": [
            {
                "id": item.id,
                "item": item.item,
                "owner": group_wire(item.owner_group_id),
                "due": _due(item.due),
                "status": item.status,
                "version": item.version,
                "updated_at": item.updated_at.isoformat(),
            }
            for item in items
        ],
        "changes": [
            {
                "id": change.id,
                "kind": change.kind,
                "op": change.op,
                "follow_up_id": change.follow_up_id,
                "changes": change.changes,
                "by": {"id": change.actor_id, "name": name},
                "at": change.created_at.isoformat(),
            }
            for change, name in changes
        ],
    }
