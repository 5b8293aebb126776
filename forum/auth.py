"""Who is asking: session cookies and bearer tokens, for HTTP and WebSocket alike.

A token is 256 random bits; the database keeps only its SHA-256, so a leaked copy of
the database signs nobody in. The cookie carries the token signed with the site key,
so a forged or truncated cookie is refused before any query.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie

from itsdangerous import BadSignature, Signer
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.base import utcnow
from forum.db.models import User
from forum.db.principals import signed_in

SESSION_COOKIE = "forum_session"
CSRF_COOKIE = "forum_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
BEARER_PREFIX = "agora_"


@dataclass(frozen=True)
class Principal:
    user: User
    session_id: int
    kind: str  # "cookie" or "bearer"
    expires_at: datetime


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signer(secret: str, purpose: str) -> Signer:
    return Signer(secret, salt=f"forum.{purpose}")


def sign(secret: str, purpose: str, value: str) -> str:
    return _signer(secret, purpose).sign(value).decode()


def unsign(secret: str, purpose: str, value: str | None) -> str | None:
    if not value or len(value) > 512:
        return None
    try:
        return _signer(secret, purpose).unsign(value).decode()
    except BadSignature:
        return None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(BEARER_PREFIX) or len(token) > 200:
        return None
    return token.strip()


def cookies_from_header(header: str | None) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    if header:
        try:
            jar.load(header)
        except Exception:  # noqa: BLE001 - a malformed Cookie header means no cookies
            return {}
    return {key: morsel.value for key, morsel in jar.items()}


async def authenticate(
    session: AsyncSession, secret: str, *, cookie: str | None, authorization: str | None
) -> Principal | None:
    """The person behind a request's credentials, or None. A bearer token wins."""
    bearer = bearer_token(authorization)
    if bearer is not None:
        token, kind = bearer, "bearer"
    else:
        unsigned = unsign(secret, "session", cookie)
        if unsigned is None:
            return None
        token, kind = unsigned, "cookie"
    found = await signed_in(session, token_hash(token), kind)
    if found is None:
        return None
    session_id, expires_at, user = found
    if expires_at <= utcnow() or not user.is_active:
        return None
    return Principal(user=user, session_id=session_id, kind=kind, expires_at=expires_at)
