"""What an unexpected error becomes: one log line and one 500, written in one place.

The line names the request's id, the method, the path and the kind of exception; the
client gets the same id (`X-Request-Id` and the body), so a report can be matched to
the line. The traceback goes to a debug logger: a driver's exception carries the
statement and its bound values, which an error log should not. The 500 closes the
connection, so a client never sends its next request on a connection whose last
request failed halfway.
"""

from __future__ import annotations

import logging
import secrets

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forum.web.errors import server_error_response

log = logging.getLogger("forum.errors")
traces = logging.getLogger("forum.errors.traceback")


class UnexpectedErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
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
            if started:
                # Too late for a 500: returning unfinished makes the server close the
                # connection, which tells the client the response is cut short.
                return
            await server_error_response(Request(scope), request_id)(scope, receive, send)
