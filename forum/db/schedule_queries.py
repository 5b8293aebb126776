"""Reads of sessions across every room: what is live now, what comes next, and the
schedule of all sessions, filtered by group, action line and stakeholder family.

Each list is one statement joining a session to its room's group, whatever the number
of rooms. The schedule is paged by keyset on (start, id), forward for what is to come
and backward for what is past, so a page costs the same however far one reads and a
session scheduled meanwhile never shifts the page one is on.

What is past: a closed session, and a scheduled one whose end has gone by without it
being opened (it was not held; a chair may still open it, but it is no longer to come).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.cursors import decode_time_and_id, encode_cursor
from forum.db.meeting_queries import stand_in_group
from forum.db.models import Group, GroupActionLine, Meeting, Room, RoomSession
from forum.domain.meetings import address
from forum.domain.sessions import SessionStatus

LIVE_MAX = 20
NEXT_MAX = 8
SCHEDULE_PAGE = 20
GROUP_SESSIONS_MAX = 10


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions a schedule lists: each field None for all."""

    group_id: int | None = None
    action_line_id: int | None = None
    family: str | None = None


@dataclass(frozen=True)
class ListedSession:
    session: RoomSession
    group: Group
    """The room's group; for a meeting's room, a stand-in named after the meeting."""
    meeting_id: int | None = None

    @property
    def room_path(self) -> str:
        if self.meeting_id is not None:
            return f"/meetings/{self.meeting_id}/room"
        return f"/groups/{self.group.slug}/room"

    @property
    def home_path(self) -> str:
        """Where the room's owner is shown: the group's page, or the meeting's."""
        if self.meeting_id is not None:
            return f"/meetings/{self.meeting_id}"
        return f"/groups/{self.group.slug}"


@dataclass(frozen=True)
class SchedulePage:
    items: list[ListedSession]
    next_cursor: str | None


def _sessions(
    chosen: SessionFilter | None = None, *, meetings: bool = False
) -> Select[RoomSession, Group | None, Meeting | None]:
    """Sessions with their room's group; with `meetings`, those of meetings' rooms too
    (no group: a filter by group, family or action line leaves them out)."""
    query = (
        select(RoomSession, Group, Meeting)
        .join(Room, Room.id == RoomSession.room_id)
        .outerjoin(Group, Group.id == Room.group_id)
        .outerjoin(Meeting, Meeting.room_id == Room.id)
    )
    if not meetings:
        query = query.where(Room.group_id.is_not(None))
    if chosen is None:
        return query
    if chosen.group_id is not None:
        query = query.where(Group.id == chosen.group_id)
    if chosen.family is not None:
        query = query.where(Group.family == chosen.family)
    if chosen.action_line_id is not None:
        query = query.where(
            exists().where(
                GroupActionLine.group_id == Group.id,
                GroupActionLine.action_line_id == chosen.action_line_id,
            )
        )
    return query


def _listed(rows: Sequence[Any]) -> list[ListedSession]:
    return [listed(row, group, meeting) for row, group, meeting in rows]


def listed(row: RoomSession, group: Group | None, meeting: Meeting | None) -> ListedSession:
    if group is not None or meeting is None:
        assert group is not None  # noqa: S101 - a room has a group or a meeting
        return ListedSession(row, group)
    return ListedSession(
        row, stand_in_group(meeting, address=address(meeting.id), title=row.title), meeting.id
    )


def _is_open() -> Any:
    return RoomSession.status == SessionStatus.OPEN.value


def _to_come(now: datetime) -> Any:
    return and_(RoomSession.status == SessionStatus.SCHEDULED.value, RoomSession.ends_at >= now)


def _past(now: datetime) -> Any:
    return or_(
        RoomSession.status == SessionStatus.CLOSED.value,
        and_(RoomSession.status == SessionStatus.SCHEDULED.value, RoomSession.ends_at < now),
    )


async def list_live(
    session: AsyncSession,
    chosen: SessionFilter | None = None,
    *,
    limit: int = LIVE_MAX,
    meetings: bool = False,
) -> list[ListedSession]:
    """Sessions open now, newest opened first."""
    rows = await session.execute(
        _sessions(chosen, meetings=meetings)
        .where(_is_open())
        .order_by(RoomSession.opened_at.desc(), RoomSession.id.desc())
        .limit(limit)
    )
    return _listed(rows.all())


async def list_next(
    session: AsyncSession,
    now: datetime,
    chosen: SessionFilter | None = None,
    *,
    limit: int = NEXT_MAX,
    meetings: bool = False,
) -> list[ListedSession]:
    """Scheduled sessions not yet over, soonest first."""
    rows = await session.execute(
        _sessions(chosen, meetings=meetings)
        .where(_to_come(now))
        .order_by(RoomSession.starts_at, RoomSession.id)
        .limit(limit)
    )
    return _listed(rows.all())


def _page(rows: Sequence[Any], limit: int) -> SchedulePage:
    items = _listed(rows[:limit])
    cursor = None
    if len(rows) > limit:
        last = items[-1].session
        cursor = encode_cursor(last.starts_at.isoformat(), str(last.id))
    return SchedulePage(items, cursor)


async def list_upcoming_page(
    session: AsyncSession,
    now: datetime,
    chosen: SessionFilter,
    *,
    cursor: str | None,
    limit: int = SCHEDULE_PAGE,
) -> SchedulePage:
    """A page of the sessions to come, soonest first, after `cursor`."""
    query = _sessions(chosen).where(_to_come(now))
    if cursor is not None:
        query = query.where(
            tuple_(RoomSession.starts_at, RoomSession.id) > decode_time_and_id(cursor)
        )
    rows = await session.execute(
        query.order_by(RoomSession.starts_at, RoomSession.id).limit(limit + 1)
    )
    return _page(rows.all(), limit)


async def list_past_page(
    session: AsyncSession,
    now: datetime,
    chosen: SessionFilter,
    *,
    cursor: str | None,
    limit: int = SCHEDULE_PAGE,
) -> SchedulePage:
    """A page of past sessions, latest first, before `cursor`."""
    query = _sessions(chosen).where(_past(now))
    if cursor is not None:
        query = query.where(
            tuple_(RoomSession.starts_at, RoomSession.id) < decode_time_and_id(cursor)
        )
    rows = await session.execute(
        query.order_by(RoomSession.starts_at.desc(), RoomSession.id.desc()).limit(limit + 1)
    )
    return _page(rows.all(), limit)


@dataclass(frozen=True)
class GroupSessions:
    live: list[ListedSession]
    next: list[ListedSession]
    past: list[ListedSession]


async def list_group_sessions(
    session: AsyncSession, group_id: int, now: datetime, *, limit: int = GROUP_SESSIONS_MAX
) -> GroupSessions:
    """A group's room's sessions for its page: open, to come, the latest past; three
    bounded statements."""
    chosen = SessionFilter(group_id=group_id)
    parts = [
        _sessions(chosen).where(_is_open()).limit(1),
        _sessions(chosen)
        .where(_to_come(now))
        .order_by(RoomSession.starts_at, RoomSession.id)
        .limit(limit),
        _sessions(chosen)
        .where(_past(now))
        .order_by(RoomSession.starts_at.desc(), RoomSession.id.desc())
        .limit(limit),
    ]
    found = [_listed((await session.execute(part)).all()) for part in parts]
    return GroupSessions(*found)
