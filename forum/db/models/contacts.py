"""Contact points' directory entries, the requests that reach them, and the private
conversations that follow an accepted request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from forum.db.base import Base, utcnow


class ContactEntry(Base):
    """What a contact point says of themselves in the directory: expertise, languages,
    and the region they cover (unset: that of their country)."""

    __tablename__ = "contact_entries"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    expertise: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    region: Mapped[str | None] = mapped_column(String(40), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactRequest(Base):
    """A government delegate's request to a contact point, and the conversation it opens.

    `last_seq` numbers the conversation's changes (its messages and its answer), so a
    reader's stream resumes from the last one it saw; `answer_seq` is the change that
    answered it. Between two people one request at most is pending (the partial unique
    index keeps two racing requests from both being stored).
    """

    __tablename__ = "contact_requests"
    __table_args__ = (
        Index("ix_contact_requests_requester_id", "requester_id"),
        Index("ix_contact_requests_contact_id", "contact_id"),
        Index(
            "uq_contact_requests_pending_pair",
            "requester_id",
            "contact_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seq: Mapped[int] = mapped_column(default=0)
    answer_seq: Mapped[int] = mapped_column(default=0)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactMessage(Base):
    """A message of an accepted request's conversation, rendered once when written."""

    __tablename__ = "contact_messages"
    __table_args__ = (
        UniqueConstraint("request_id", "seq", name="uq_contact_messages_request_id_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("contact_requests.id", ondelete="CASCADE"))
    seq: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
