"""What every HTTP answer goes through, in one ASGI layer: the address checked for text
no column can store (`input_guard`), an unexpected error made one logged 500
(`failures`), the write hint's cookie on a signed-in write (`write_hint`), the body
compressed (`compression`) and the security headers (`security`).

One layer rather than five, each with its own `send` wrapped around the next: a read
answered from memory paid more for passing its two messages through them than for
everything it does itself. What each step does, and in which order they see an
answer, is as it was with one middleware each, outermost first: security headers,
compression, unexpected errors, input guard, write hint.
"""

from __future__ import annotations

import secrets
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forum.web.compression import CACHE_LIMIT, Responder, accepted_encoding
from forum.web.errors import early_error_response, server_error_response
from forum.web.failures import log, traces
from forum.web.input_guard import address_problem
from forum.web.security import SecurityHeaders
from forum.web.write_hint import SAFE_METHODS, hint_cookie


class HttpEdge:
    def __init__(self, app: ASGIApp, *, hsts: bool, window_s: float, secure: bool) -> None:
        self.app = app
        self.security = SecurityHeaders(hsts=hsts)
        # Compressed static files, shared by every answer.
        self.compressed: dict[tuple[str, str], bytes] = {}
        self.compressed_bytes = 0
        # Whole seconds, rounded up: the cookie outlives the window, never the reverse.
        self.hint_max_age = max(1, int(-(-window_s // 1)))
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(self, scope, send)
        try:
            error = address_problem(scope)
            if error is not None:
                await early_error_response(Request(scope), error)(scope, receive, exchange.send)
                return
            await self.app(scope, receive, exchange.send)
        except Exception as exc:  # noqa: BLE001 - the last resort: one clean 500, logged
            request_id = secrets.token_hex(8)
            log.error(
                "unexpected %s on %s %r, request %s",
                type(exc).__name__,
                scope["method"],
                scope["path"],
                request_id,
            )
            traces.debug("request %s", request_id, exc_info=exc)
            if exchange.started:
                # Too late for a 500: returning unfinished makes the server close the
                # connection, which tells the client the response is cut short.
                return
            await server_error_response(Request(scope), request_id)(scope, receive, exchange.send)

    def cached(self, key: tuple[str, str]) -> bytes | None:
        return self.compressed.get(key)

    def keep(self, key: tuple[str, str], body: bytes) -> None:
        if self.compressed_bytes + len(body) <= CACHE_LIMIT:
            self.compressed[key] = body
            self.compressed_bytes += len(body)


class _Exchange:
    """One request's answer on its way out."""

    __slots__ = ("edge", "hint", "next", "scope", "started")

    def __init__(self, edge: HttpEdge, scope: Scope, send: Send) -> None:
        self.edge = edge
        self.scope = scope
        self.started = False
        # A signed-in write that succeeds leaves the hint; reads never do.
        self.hint = scope["method"] not in SAFE_METHODS
        if scope["method"] == "HEAD":
            # No body to compress, and no `Vary` added for it (as before).
            self.next: Send = send
        else:
            self.next = Responder(edge, accepted_encoding(scope), send)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            headers = list(message.get("headers", ()))
            if (
                self.hint
                and message["status"] < 400
                and self.scope.get("forum.principal") is not None
            ):
                secure = self.edge.secure or self.scope.get("scheme") == "https"
                headers.append(
                    (b"set-cookie", hint_cookie(time.time(), self.edge.hint_max_age, secure))
                )
            self.edge.security.add(headers)
            message["headers"] = headers
        await self.next(message)
