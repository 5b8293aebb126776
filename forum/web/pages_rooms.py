"""Public archive pages of the live rooms: readable without an account or JavaScript.
The transcript of a closed session, with its record, is `pages_minutes`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.actions.room_reads import list_sessions, room_for
from forum.domain.sessions import SessionStatus
from forum.web.http import db
from forum.web.pages import page_context
from forum.web.templates import render


async def archive_page(request: Request) -> Response:
    async with db(request) as session:
        group, room = await room_for(session, request.path_params["slug"])
        closed = await list_sessions(session, room.id, status=SessionStatus.CLOSED)
        upcoming = await list_sessions(session, room.id, status=SessionStatus.SCHEDULED)
    return render(
        request,
        "rooms/archive.html",
        await page_context(request, group=group, closed=closed, upcoming=upcoming),
    )


routes = [
    Route("/rooms/{slug}/archive", archive_page, methods=["GET"]),
]
