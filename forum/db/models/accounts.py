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
