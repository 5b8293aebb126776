"""Meetings with a room of their own: briefings and consultations.

A meeting owns one room (with no group) and the one session held in it. Who takes a
seat there is listed here (`MeetingPerson`): the invitees of a briefing, the chairs
and delegations of a consultation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.db.base import Base, utcnow


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), unique=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("room_sessions.id", ondelete="SET NULL"), default=None
    )
    # Closed: the transcript is not public; existence, date, participants and the
    # outcome summary still are.
    transcript_closed: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str] = mapped_column(Text, default="")
    outcome_html: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MeetingPerson(Base):
    """Someone named to a meeting: chair, invitee or delegate (of a side)."""

    __tablename__ = "meeting_people"
    __table_args__ = (Index("ix_meeting_people_user_id", "user_id"),)

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))
    side_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), default=None
    )
    named_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consultation(Base):
    """The two sides of a consultation meeting, what was proposed and the answer."""

    __tablename__ = "consultations"
    __table_args__ = (
        Index("ix_consultations_host_group_id", "host_group_id"),
        Index("ix_consultations_guest_group_id", "guest_group_id"),
    )

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    basis: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(Text)
    host_group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    guest_group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    seats_per_side: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    # The side whose answer is awaited (the guest, then the host after a counter).
    awaiting_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL"), default=None
    )
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    counter_starts_at: Mapped[datetime | None] = mapped_column(default=None)
    counter_ends_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the time now on the table was proposed, and whether that was short notice
    # under the minimum then in force.
    noticed_at: Mapped[datetime] = mapped_column(default=utcnow)
    short_notice: Mapped[bool] = mapped_column(default=False)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
