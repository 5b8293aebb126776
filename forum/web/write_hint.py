"""The mark a signed-in write leaves in the browser, so that their next reads ask the
database for the board's counter instead of taking the broker's word.

A worker serves a thread on the board counter the broker told it, for at most
`FORUM_BOARD_TRUST_S` (forum/board_versions.py): a write taken by another worker may
reach it a moment later, or, when its publish is lost, only after that window. Every
state-changing request of a signed-in caller that succeeds sets `forum_wrote` to the
time it was answered; while it is younger than that window, their reads ask the
database (forum/web/discussion_context.py), whichever worker takes them. The cookie
says nothing about anyone: a forged one only makes its sender's reads slower.
"""

from __future__ import annotations

import time

from starlette.requests import Request

from forum.web.http import app_state

WROTE_COOKIE = "forum_wrote"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def wrote_recently(request: Request) -> bool:
    raw = request.cookies.get(WROTE_COOKIE)
    if raw is None:
        return False
    try:
        written = float(raw)
    except ValueError:
        return True
    window = app_state(request)["settings"].board_trust_s
    # A clock that went back counts as recent: asking is always safe.
    return time.time() - written < window or written > time.time()


def hint_cookie(now: float, max_age: int, secure: bool) -> bytes:
    """The `Set-Cookie` value `forum.web.edge` adds to a signed-in write that succeeds
    (a state-changing method, an answer under 400)."""
    flag = "; Secure" if secure else ""
    return (
        f"{WROTE_COOKIE}={now:.3f}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{flag}"
    ).encode("latin-1")
