"""People and their sign-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.db.base import Base, utcnow


class User(Base):
    """A registered person: simple registration, not accreditation."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased and NFC-normalized, so that lookups are exact and indexed.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    family: Mapped[str] = mapped_column(String(32))
    organization: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(40))
    is_secretariat: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Unset: pages follow the browser (the switcher's cookie, then Accept-Language).
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    # An IANA name such as "Africa/Nairobi"; unset: dates are shown in UTC.
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)

    def public(self) -> dict[str, object]:
        """What anyone may see of a person."""
        return {
            "id": self.id,
            "display_name": self.display_name,
            "family": self.family,
            "organization": self.organization,
            "country": self.country,
            "region": self.region,
        }


class AuthSession(Base):
    """A signed-in browser (cookie) or API client (bearer token).

    Only a hash of the token is stored: a copy of the database signs nobody in.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # "cookie" or "bearer"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class FamilyRequest(Base):
    """A person's request to be counted in another stakeholder family.

    Seats and bureaus depend on a person's family, so a change waits for the
    secretariat: `status` is pending until it is approved or refused. A person has at
    most one pending request (the action replaces it rather than adding another).
    """

    __tablename__ = "family_requests"
    __table_args__ = (Index("ix_family_requests_user_id_status", "user_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(32))  # the family asked for
    previous: Mapped[str] = mapped_column(String(32))  # the family when asked
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
