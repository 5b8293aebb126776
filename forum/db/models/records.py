"""What a closed session keeps (its minutes, its follow-ups, every change made to
them) and the private addresses of people's calendars."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.db.base import Base, utcnow


class SessionMinutes(Base):
    """A session's minutes: one text, rewritten by the chairs of the parties."""

    __tablename__ = "session_minutes"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("room_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # One more on every write: a write made on an older one is refused.
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUp(Base):
    """Something a session left to be done: by which group, by when, where it stands."""

    __tablename__ = "session_follow_ups"
    __table_args__ = (Index("ix_session_follow_ups_session_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("room_sessions.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(300))
    owner_group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    due: Mapped[date | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default="open")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordChange(Base):
    """One change to a session's record: the minutes written, a follow-up added or
    changed; `changes` maps each field changed to [before, after]."""

    __tablename__ = "session_record_changes"
    __table_args__ = (Index("ix_session_record_changes_session_id", "session_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("room_sessions.id", ondelete="CASCADE"))
    follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_follow_ups.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(20))  # minutes, follow_up
    op: Mapped[str] = mapped_column(String(20))  # write, add, edit
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarKey(Base):
    """The key in a person's private calendar address. The address also carries a
    signature of the key by the server's secret, so that a copy of the database alone
    opens no one's calendar; revoking deletes the row, and a new key makes a new
    address."""

    __tablename__ = "calendar_keys"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
