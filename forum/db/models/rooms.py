"""Live rooms: one per group or per meeting (forum/db/models/meetings.py), its sessions,
its numbered events, and who is in it.

The room row holds the live state (speaker queue, floor, counts of who has spoken) so
that an action reads and writes it in one statement each, under the lock that also
hands out the room's next `seq`. Every change of that state writes an event carrying
the new value, so the state a client was sent plus the events after it equals the
state read fresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.db.base import Base, utcnow
from forum.wire.room import Floor, FloorTally, ObserverSeats, QueueItem, SideTurns, Spoken


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for the room of a meeting (briefing, consultation), which no group owns.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), unique=True, default=None
    )
    last_seq: Mapped[int] = mapped_column(default=0)
    # Bumped on every presence change; clients use it to order presence updates.
    presence_ver: Mapped[int] = mapped_column(default=0)
    queue_policy: Mapped[str] = mapped_column(String(20), default="fifo")
    observer_seats: Mapped[ObserverSeats] = mapped_column(
        JSON, default=lambda: {"civil_society": 1}
    )
    open_session_id: Mapped[int | None] = mapped_column(default=None)
    # The shapes of these columns are those of the wire (forum/wire/room.py).
    queue: Mapped[list[QueueItem]] = mapped_column(JSON, default=list)
    floor: Mapped[Floor | None] = mapped_column(JSON, default=None)
    spoken: Mapped[Spoken] = mapped_column(JSON, default=dict)
    # The open session's budgets, the seconds each family has used, and turns by north
    # and south (forum/actions/floor_state.py); emptied when a session opens or closes.
    floor_tally: Mapped[FloorTally] = mapped_column(JSON, default=dict)
    # Turns given to each side of a consultation this session, by side group id.
    side_turns: Mapped[SideTurns] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoomSession(Base):
    """A scheduled sitting of a room; its events are those between open and close."""

    __tablename__ = "room_sessions"
    __table_args__ = (Index("ix_room_sessions_room_id_starts_at", "room_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text, default="")
    agenda_html: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    opened_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    open_seq: Mapped[int | None] = mapped_column(default=None)
    close_seq: Mapped[int | None] = mapped_column(default=None)
    # The audio or video conference the session is also held in: handed only to the
    # people seated in the room, so it is never in `session_wire` (events, archives).
    conference_url: Mapped[str | None] = mapped_column(String(500), default=None)
    # Speaking-time budgets: seconds per stakeholder family (forum/domain/floor.py).
    family_budgets: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # The calendar entry's SEQUENCE and when it last changed (forum/domain/calendars.py).
    sequence: Mapped[int] = mapped_column(default=0)
    revised_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoomEvent(Base):
    __tablename__ = "room_events"
    __table_args__ = (UniqueConstraint("room_id", "seq", name="uq_room_events_room_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    seq: Mapped[int]
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("room_sessions.id", ondelete="SET NULL"), default=None
    )
    type: Mapped[str] = mapped_column(String(20))
    op: Mapped[str] = mapped_column(String(20))
    # One of the shapes of forum/wire/events.py (`ROOM_EVENTS`), read as a plain
    # mapping: rows written before a key was added lack it.
    data: Mapped[Mapping[str, Any]] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def wire(self) -> dict[str, Any]:
        """The frame every client receives: `type`, `op`, `seq`, then the data."""
        return {
            **self.data,
            "type": self.type,
            "op": self.op,
            "room": self.room_id,
            "seq": self.seq,
            "actor": self.actor_id,
            "at": self.created_at.isoformat(),
        }


class Presence(Base):
    """One open connection in a room, kept in the database so every worker sees it.

    Each worker refreshes `seen_at` of its own connections; rows of a worker that
    stopped refreshing (it crashed) are swept by the others.
    """

    __tablename__ = "room_presence"
    __table_args__ = (
        # A person's latest connection, and the observer seats taken, on every join.
        Index("ix_room_presence_room_id_user_id_joined_at", "room_id", "user_id", "joined_at"),
        Index("ix_room_presence_room_id_seat", "room_id", "seat", "user_id", "family"),
        Index("ix_room_presence_worker", "worker"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    seat: Mapped[str] = mapped_column(String(20))
    family: Mapped[str] = mapped_column(String(32))
    worker: Mapped[str] = mapped_column(String(36))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attendance(Base):
    """Who sat in a session, on which seat: the transcript counts it by family."""

    __tablename__ = "session_attendance"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("room_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    seat: Mapped[str] = mapped_column(String(20), primary_key=True)
    family: Mapped[str] = mapped_column(String(32))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)


class Spectator(Base):
    """One signed-out connection watching a room: counted, never listed.

    Kept in the database like presence, so that every worker counts the spectators of
    all workers, and swept the same way when a worker stops refreshing its rows.
    """

    __tablename__ = "room_spectators"
    __table_args__ = (
        Index("ix_room_spectators_room_id", "room_id"),
        Index("ix_room_spectators_worker", "worker"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    worker: Mapped[str] = mapped_column(String(36))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
