"""A walk over every page of the forum in a real browser: the page routes read from the
application's own route list (so a page added later is walked with no change here), the
data each parameterised page needs, and a browser context per reader.

A route whose path holds a parameter that `PARAMS` does not fill fails the walk with its
name, and so does a page that no reader gets (its data is missing from `build_world`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize
from starlette.routing import Route

from forum.db.base import utcnow
from forum.web.routes import API_ROUTERS, build_routes
from tests.browser import sign_in_context
from tests.contacts_support import list_as_contact_point, open_conversation
from tests.factory import GROUP
from tests.people import Person, api, person
from tests.rooms_support import peer, schedule_and_open
from tests.support import LiveServer, make_secretariat

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = ViewportSize(width=360, height=780)
DESKTOP = ViewportSize(width=1280, height=900)
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def page_routes() -> list[str]:
    """The path of every GET route that is not the JSON API, the OpenAPI document or the
    static files: the pages (and feeds, told apart by their content type)."""
    api_paths = {route.path for router in API_ROUTERS for route in router.routes}
    paths: list[str] = []
    for route in build_routes():
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        if route.path in api_paths or route.path.startswith("/api/"):
            continue
        if route.path == "/openapi.json" or route.path in paths:
            continue
        paths.append(route.path)
    return paths


@dataclass
class World:
    """What the pages show: a working group with its chair and a member, a thread with a
    position, a reply and an edit, a closed session with its transcript, an open one,
    one to come, and a secretariat account."""

    chair: Person
    member: Person
    secretariat: Person
    code: str
    thread_id: int
    post_id: int
    closed_session_id: int
    meeting_id: int
    # A conversation of the chair (a government delegate) with the member, listed as a
    # contact point, and the number of its first message.
    contact_request_id: int = 0
    contact_message_seq: int = 0


# How each path parameter is filled; a route with another one fails the walk.
PARAMS: dict[str, Callable[[World], object]] = {
    "slug": lambda w: GROUP,
    "code": lambda w: w.code,
    "thread_id": lambda w: w.thread_id,
    "post_id": lambda w: w.post_id,
    "session_id": lambda w: w.closed_session_id,
    "user_id": lambda w: w.member.id,
    "meeting_id": lambda w: w.meeting_id,
    "contact_request_id": lambda w: w.contact_request_id,
    "seq": lambda w: w.contact_message_seq,
}
# Query strings that make a page show what it is for.
QUERIES = {"/search": "?q=access"}


def url_of(path: str, world: World) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PARAMS:
            pytest.fail(
                f"the page route {path} has a parameter {{{name}}} that the walk does not "
                f"fill: add it to PARAMS in tests/page_walk.py, with the data it needs in "
                f"build_world"
            )
        return str(PARAMS[name](world))

    return _PARAM.sub(fill, path) + QUERIES.get(path, "")


async def build_world(server: LiveServer) -> World:
    chair = await person(server, role="chair", name="Markus Kummer")
    member = await person(server, role="member", name="Nitin Desai")
    secretariat = await person(server, name="Charles Geiger")
    await make_secretariat(server, secretariat.id)

    opened = await api(
        chair,
        "POST",
        "/api/action-lines/C6/threads",
        {
            "title": "An enabling environment for community networks",
            "body": (
                "Licensing rules written for national operators keep **community networks** "
                "off the air. We propose:\n\n1. a light licence for non-profit operators;\n"
                "2. spectrum set aside for local use."
            ),
            "group": GROUP,
        },
    )
    assert opened.status_code == 201, opened.text
    thread = opened.json()
    post_id = int(thread["post"]["id"])
    member_reply = await api(
        member,
        "POST",
        f"/api/threads/{thread['thread']['id']}/posts",
        {"body": "Spectrum for local use worked well in our region.", "parent_id": post_id},
    )
    assert member_reply.status_code == 201, member_reply.text
    edited = await api(
        chair,
        "PATCH",
        f"/api/posts/{post_id}",
        {
            "body": thread["post"]["body"].replace("light licence", "light, free licence"),
        },
    )
    assert edited.status_code == 200, edited.text

    sitting = await schedule_and_open(chair, title="Financing mechanisms for rural access")
    async with peer(server, chair) as c:
        assert (await c.join("participant"))["type"] == "joined"
        said = await c.call({"type": "speak", "body": "The floor is open on item 1."})
        assert said["type"] == "ack", said
    closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{sitting['id']}/close")
    assert closed.status_code == 200, closed.text
    # Its record, so that the transcript shows minutes, a follow-up and its forms.
    record = f"/api/sessions/{sitting['id']}"
    for method, path, body in (
        ("PUT", f"{record}/minutes", {"body": "Agreed: **two** studies."}),
        ("POST", f"{record}/follow-ups", {"item": "Draft the study", "owner": GROUP}),
    ):
        kept = await api(chair, method, path, body)
        assert kept.status_code in {200, 201}, kept.text
    await schedule_and_open(chair, title="Open debate on community networks")
    upcoming = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {
            "title": "Review of the draft report",
            "agenda": "1. Paragraphs 1 to 12",
            "format": "statements",
            "starts_at": "2030-11-16T09:00:00+01:00",
            "ends_at": "2030-11-16T12:00:00+01:00",
        },
    )
    assert upcoming.status_code == 201, upcoming.text
    # A briefing every signed-in reader of the walk is invited to (its room seats only
    # invitees), and a consultation proposed at short notice, on the schedule.
    briefing = await api(
        chair,
        "POST",
        "/api/briefings",
        {
            "title": "Briefing on the draft report",
            "agenda": "1. State of play",
            "starts_at": "2030-11-15T09:00:00+01:00",
            "ends_at": "2030-11-15T10:00:00+01:00",
            "invitees": [member.id, secretariat.id],
        },
    )
    assert briefing.status_code == 201, briefing.text
    soon = (utcnow() + timedelta(days=5)).isoformat()
    consultation = await api(
        chair,
        "POST",
        "/api/consultations",
        {
            "host": GROUP,
            "guest": "internet-governance-caucus",
            "basis": "issue",
            "title": "Consultation on the draft report",
            "purpose": "Hear the caucus before the report goes out.",
            "format": "drafting",
            "starts_at": soon,
            "minutes": 120,
            "seats_per_side": 3,
        },
    )
    assert consultation.status_code == 201, consultation.text
    await list_as_contact_point(server, member)
    talk = await open_conversation(chair, member, "Could you brief us on *e-health* records?")
    message = await api(
        member, "POST", f"/api/contact-requests/{talk['id']}/messages", {"body": "Gladly."}
    )
    assert message.status_code == 201, message.text
    return World(
        contact_request_id=int(talk["id"]),
        contact_message_seq=int(message.json()["seq"]),
        chair=chair,
        member=member,
        secretariat=secretariat,
        code="C6",
        thread_id=int(thread["thread"]["id"]),
        post_id=post_id,
        closed_session_id=int(sitting["id"]),
        meeting_id=int(briefing.json()["id"]),
    )


async def reader_context(
    browser: Browser, server: LiveServer, who: Person | None, **options: object
) -> BrowserContext:
    """A browser context signed in as `who` (with the session cookie a sign-in sets), or
    signed out."""
    context = await browser.new_context(base_url=server.url, viewport=DESKTOP, **options)  # type: ignore[arg-type]
    if who is not None:
        await sign_in_context(context, server, who)
    return context


async def settle(page: Page) -> None:
    """A live page has connected (its status says so), so what a reader sees is there."""
    if await page.locator("#conn").count():
        await page.wait_for_selector('#conn[data-state="live"]', timeout=15_000)


def axe_source() -> str:
    if not AXE.exists():
        message = f"{AXE} is missing: run `npm ci --prefix tests/axe` (scripts/test does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def screenshots_wanted() -> bool:
    """Screenshots are written only when asked, so that a test run leaves the tree clean."""
    return os.environ.get("FORUM_SCREENSHOTS", "") == "1"


async def screenshot(page: Page, name: str, viewport: ViewportSize | None = None) -> None:
    """docs/screenshots/`name`.png of the whole page at `viewport`. The page takes that
    size whether or not the picture is wanted, so that a test runs the same either way."""
    if viewport is not None:
        await page.set_viewport_size(viewport)
    if not screenshots_wanted():
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
