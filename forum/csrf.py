"""CSRF tokens bound to the session.

Signed in, a form's token is an HMAC of the session's token under the site key: only
this session's pages carry it, it changes with the session (at every sign-in), and a
cookie planted by another site (a sibling subdomain, another port, a plain-HTTP hop)
cannot stand in for it. Signed out (the sign-in and registration forms), the token is
an HMAC of a random pre-session nonce kept in the `forum_csrf` cookie: planting that
cookie gains nothing without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from forum.auth import unsign

_MAX_NONCE = 128


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def _mac(secret: str, purpose: str, value: str) -> str:
    message = f"forum.csrf.{purpose}:{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def session_token(secret: str, session: str) -> str:
    """The CSRF token of the session whose (unsigned) cookie token is `session`."""
    return _mac(secret, "session", session)


def presession_token(secret: str, nonce: str) -> str:
    return _mac(secret, "presession", nonce)


def expected_token(secret: str, *, session_cookie: str | None, nonce: str | None) -> str | None:
    """The token this browser's forms carry: its session's, else its pre-session one.

    Read from the cookies alone, without a query, so that pages render it and every
    check agrees with them; a cookie whose session has ended still binds the token to
    that dead session, which signs nobody in.
    """
    session = unsign(secret, "session", session_cookie)
    if session is not None:
        return session_token(secret, session)
    if nonce and len(nonce) <= _MAX_NONCE:
        return presession_token(secret, nonce)
    return None


def token_matches(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    # As bytes: `compare_digest` refuses str outside ASCII, and anyone can send that.
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    )
