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

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forum.web.http import app_state

WROTE_COOKIE = "forum_wrote"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


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


class WriteHintMiddleware:
    def __init__(self, app: ASGIApp, *, window_s: float, secure: bool) -> None:
        self.app = app
        # Whole seconds, rounded up: the cookie outlives the window, never the reverse.
        self.max_age = max(1, int(-(-window_s // 1)))
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _SAFE:
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if (
                message["type"] == "http.response.start"
                and message["status"] < 400
                and scope.get("forum.principal") is not None
            ):
                secure = "; Secure" if self.secure or scope.get("scheme") == "https" else ""
                MutableHeaders(scope=message).append(
                    "set-cookie",
                    f"{WROTE_COOKIE}={time.time():.3f}; Max-Age={self.max_age}; Path=/; "
                    f"HttpOnly; SameSite=Lax{secure}",
                )
            await send(message)

        await self.app(scope, receive, send_marked)
