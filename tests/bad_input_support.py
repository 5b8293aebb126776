"""What the tests walking every route share (bad input, GETs that must change nothing):
a forum with one of everything a route can name (a thread, a post, a closed session,
a secretariat signed in by cookie), every row of every table, and the routes of the
app with their path parameters filled in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from starlette.routing import Route

from forum.db.models import Base
from forum.web.routes import API_ROUTERS
from tests.contacts_support import contact_point
from tests.factory import GROUP
from tests.people import Person, api, person
from tests.support import Client, LiveServer, make_secretariat, served_routes

PARAM = re.compile(r"{(\w+)(?::\w+)?}")
# Ids no column can hold: past PostgreSQL's integer, SQLite's 64 bits, any machine word.
HUGE_IDS = (2**31, 2**63, 10**30)


@dataclass
class Forum:
    server: LiveServer
    http: Client  # the secretariat, signed in with a cookie and sending its CSRF token
    chair: Person
    values: dict[str, str]  # a real value for every path parameter name

    def path(self, template: str, **override: str) -> str:
        return PARAM.sub(lambda m: override.get(m[1], self.values[m[1]]), template)


async def make_forum(server: LiveServer, http: Client) -> Forum:
    me = await http.signup(family="government")
    await make_secretariat(server, me["id"])
    chair = await person(server, role="chair")
    opened = await api(
        chair,
        "POST",
        "/api/action-lines/C1/threads",
        {"title": "Access for all", "body": "A first post."},
    )
    assert opened.status_code == 201, opened.text
    thread = opened.json()["thread"]
    post = opened.json()["post"]
    scheduled = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {
            "title": "Sitting",
            "starts_at": "2005-11-16T09:00:00+01:00",
            "ends_at": "2005-11-16T12:00:00+01:00",
        },
    )
    assert scheduled.status_code == 201, scheduled.text
    session_id = scheduled.json()["id"]
    for step in ("open", "close"):
        done = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{session_id}/{step}")
        assert done.status_code == 200, done.text
    # A session to come with an access window (that the clocks leave alone until long
    # after the test), for the routes that name one.
    later = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {
            "title": "Later sitting",
            "starts_at": "2100-11-17T09:00:00+01:00",
            "ends_at": "2100-11-17T12:00:00+01:00",
        },
    )
    assert later.status_code == 201, later.text
    window = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions/{later.json()['id']}/windows",
        {"minutes_before_end": 15, "length_minutes": 15, "families": ["civil_society"]},
    )
    assert window.status_code == 201, window.text
    # The closed session's record holds a follow-up; the chair has a calendar address.
    listed = await api(
        chair, "POST", f"/api/sessions/{session_id}/follow-ups", {"item": "Study", "owner": GROUP}
    )
    assert listed.status_code == 201, listed.text
    address = (await api(chair, "POST", "/api/me/calendar")).json()["address"]
    # A change of family waiting for the secretariat, for the routes that name one.
    asked = await api(chair, "POST", "/api/me/family-request", {"family": "private_sector"})
    assert asked.status_code == 201, asked.text
    # A briefing, for the routes that name a meeting (and a side, a group's slug).
    briefing = await api(
        chair,
        "POST",
        "/api/briefings",
        {
            "title": "Briefing",
            "starts_at": "2030-11-16T09:00:00+01:00",
            "ends_at": "2030-11-16T10:00:00+01:00",
            "invitees": [chair.id],
        },
    )
    assert briefing.status_code == 201, briefing.text
    # A conversation between the signed-in delegate and a contact point.
    expert = await contact_point(server)
    sent = await http.post("/api/contact-requests", json={"contact_id": expert.id, "body": "Hi"})
    assert sent.status_code == 201, sent.text
    accepted = await api(expert, "POST", f"/api/contact-requests/{sent.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    values = {
        "meeting_id": str(briefing.json()["id"]),
        "side": GROUP,
        "contact_request_id": str(sent.json()["id"]),
        "seq": "1",
        "request_id": str(asked.json()["id"]),
        "slug": GROUP,
        "code": "C1",
        "thread_id": str(thread["id"]),
        "post_id": str(post["id"]),
        "session_id": str(session_id),
        "user_id": str(chair.id),
        "window_id": str(window.json()["id"]),
        "follow_up_id": str(listed.json()["follow_ups"][0]["id"]),
        "token": address.rsplit("/", 1)[1].removesuffix(".ics"),
    }
    return Forum(server, http, chair, values)


async def table_rows(server: LiveServer) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with server.state["sessionmaker"]() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            rows[table.name] = sorted((tuple(row) for row in result), key=repr)
    return rows


async def table_counts(server: LiveServer) -> dict[str, int]:
    return {name: len(rows) for name, rows in (await table_rows(server)).items()}


async def send(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """The response, its body read unless it is an open event stream."""
    csrf = getattr(http, "csrf", None)
    if csrf and method not in {"GET", "HEAD"}:
        kwargs["headers"] = {"x-csrf-token": csrf, **kwargs.get("headers", {})}
    async with http.stream(method, url, **kwargs) as response:
        streaming = response.headers.get("content-type", "").startswith("text/event-stream")
        if method == "HEAD" or not streaming:
            await response.aread()
    return response


def http_routes(server: LiveServer) -> Iterator[tuple[str, str]]:
    """(method, path template) of every HTTP route the app serves, HEAD aside."""
    for route in served_routes(server):
        if isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, route.path


def api_bodies() -> dict[tuple[str, str], type[Any]]:
    """The body model of every JSON operation that takes one."""
    return {
        (op.method, op.path): op.body
        for router in API_ROUTERS
        for op in router.operations
        if op.body is not None
    }


def query_names() -> set[str]:
    """Every query parameter an operation declares, and those the pages read."""
    names = {name for router in API_ROUTERS for op in router.operations for name, _ in op.query}
    return names | {"reply_to", "after"}
