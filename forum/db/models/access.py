"""Who may come into a room beyond its group: access windows on a session, and the
observer seats people or caucuses asked for and the chair granted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from forum.db.base import Base, utcnow
from forum.wire.events import WindowInfo


class AccessWindow(Base):
    """Part of a session opened to people outside its group.

    The start and end are fixed when the window is set (from an offset before the
    session's end, kept in `offset_s`, or from a time); `ended_at` is set once the
    people it admitted have been moved at its end, by whichever worker came first.
    """

    __tablename__ = "access_windows"
    __table_args__ = (
        Index("ix_access_windows_session_id", "session_id"),
        # The clocks look for windows over and not yet ended, on every worker.
        Index("ix_access_windows_ended_at_ends_at", "ended_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("room_sessions.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    offset_s: Mapped[int | None] = mapped_column(default=None)
    families: Mapped[list[str]] = mapped_column(JSON, default=list)
    group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    seat: Mapped[str] = mapped_column(String(20))
    after: Mapped[str] = mapped_column(String(20))
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def wire(self) -> WindowInfo:
        return {
            "id": self.id,
            "session": self.session_id,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "offset_s": self.offset_s,
            "families": list(self.families),
            "groups": list(self.group_ids),
            "seat": self.seat,
            "after": self.after,
            "ended": self.ended_at is not None,
        }


class ObserverRequest(Base):
    """A person, or a caucus, asking for an observer seat in a group's sessions."""

    __tablename__ = "observer_requests"
    __table_args__ = (
        Index("ix_observer_requests_group_id_status", "group_id", "status"),
        # One pending request per (group, person) and per (group, caucus).
        Index(
            "uq_observer_requests_pending_user",
            "group_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending' AND caucus_id IS NULL"),
            postgresql_where=text("status = 'pending' AND caucus_id IS NULL"),
        ),
        Index(
            "uq_observer_requests_pending_caucus",
            "group_id",
            "caucus_id",
            unique=True,
            sqlite_where=text("status = 'pending' AND caucus_id IS NOT NULL"),
            postgresql_where=text("status = 'pending' AND caucus_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    # Who asked; for a caucus, the coordinator who asked on its behalf.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    caucus_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), default=None
    )
    family: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str] = mapped_column(String(500), default="")
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
