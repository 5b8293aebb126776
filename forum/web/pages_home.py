"""The front page: sessions live now and next in every room, the latest positions, and
the action lines and themes with their recent activity.

It is the page everyone meets first, signed out readers included, so its reads are
bounded: a fixed number of statements whatever the number of rooms, sessions, lines or
positions (tests/test_pages_home.py counts them).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.db.activity_queries import list_latest_positions, list_line_activity
from forum.db.base import utcnow
from forum.db.schedule_queries import list_live, list_next
from forum.web.http import db
from forum.web.pages import page_context
from forum.web.templates import render


async def home(request: Request) -> Response:
    async with db(request) as session:
        live = await list_live(session, meetings=True)
        upcoming = await list_next(session, utcnow(), meetings=True)
        positions = await list_latest_positions(session)
        activity = await list_line_activity(session)
    return render(
        request,
        "home.html",
        await page_context(
            request,
            live=live,
            upcoming=upcoming,
            positions=positions,
            action_lines=[item for item in activity if item.line.kind == "action_line"],
            themes=[item for item in activity if item.line.kind == "theme"],
        ),
    )


routes = [Route("/", home, methods=["GET"])]
