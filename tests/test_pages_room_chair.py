"""The chair's pages of a room: HTML forms with the CSRF token, each error beside its
field with what was typed kept, refusals that write nothing; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select

from forum.db.models import Group, Room, RoomEvent, RoomSession
from tests.factory import GROUP, PASSWORD
from tests.people import api, person
from tests.support import Client, LiveServer, client, token_in

PAGE = f"/groups/{GROUP}/room/sessions"


async def rows(server: LiveServer) -> dict[str, Any]:
    async with server.state["sessionmaker"]() as session:
        return {
            "sessions": (
                await session.execute(
                    select(RoomSession.id, RoomSession.title, RoomSession.status).order_by(
                        RoomSession.id
                    )
                )
            ).all(),
            "events": await session.scalar(select(func.count()).select_from(RoomEvent)),
            # Every group has its room; the chair's is the one whose policy may change.
            "seats": (
                await session.execute(
                    select(Room.observer_seats)
                    .join(Group, Group.id == Room.group_id)
                    .where(Group.slug == "wgig")
                )
            )
            .scalars()
            .all(),
        }


@asynccontextmanager
async def browser_of(server: LiveServer, role: str) -> AsyncIterator[Client]:
    """A cookie-signed-in client, as a browser is, with its CSRF token for forms."""
    who = await person(server, role=role)
    async with client(server, follow_redirects=False) as http:
        await http.login(who.user["email"], PASSWORD)
        page = await http.get(PAGE)
        # The forms carry the session's token, the one the sign-in answered with.
        assert token_in(page.text) == http.csrf
        yield http


def form(http: Client, **fields: str) -> dict[str, str]:
    return {"csrf_token": http.csrf or "", **fields}


SITTING = {
    "title": "Financing mechanisms",
    "format": "statements",
    "starts_at": "2005-11-16T09:00",
    "ends_at": "2005-11-16T12:00",
    "agenda": "1. *Opening*",
}


async def test_the_chair_schedules_opens_and_closes_from_forms(server: LiveServer) -> None:
    async with browser_of(server, "chair") as http:
        page = await http.get(PAGE)
        assert page.status_code == 200 and "Schedule a session" in page.text
        before = await rows(server)

        # No token: refused, nothing written.
        refused = await http.post(PAGE, data=SITTING)
        assert refused.status_code == 403
        assert await rows(server) == before

        # A session that ends before it starts: the error beside the field, the rest kept.
        wrong = await http.post(PAGE, data=form(http, **{**SITTING, "ends_at": "2005-11-16T08"}))
        assert wrong.status_code == 422
        assert 'id="ends_at-error"' in wrong.text and "ends after it starts" in wrong.text
        assert 'aria-invalid="true"' in wrong.text
        assert 'value="Financing mechanisms"' in wrong.text and "1. *Opening*" in wrong.text
        unreadable = await http.post(PAGE, data=form(http, **{**SITTING, "starts_at": "soon"}))
        assert unreadable.status_code == 422 and 'id="starts_at-error"' in unreadable.text
        assert await rows(server) == before

        done = await http.post(PAGE, data=form(http, **SITTING))
        assert done.status_code == 303 and done.headers["location"] == PAGE
        [(session_id, title, status)] = (await rows(server))["sessions"]
        assert (title, status) == ("Financing mechanisms", "scheduled")
        assert "Open “Financing mechanisms”" in (await http.get(PAGE)).text

        opened = await http.post(f"{PAGE}/{session_id}/open", data=form(http))
        assert opened.status_code == 303 and opened.headers["location"] == f"/groups/{GROUP}/room"
        again = await http.post(f"{PAGE}/{session_id}/open", data=form(http))
        assert again.status_code == 409 and "There is a problem" in again.text
        closed = await http.post(f"{PAGE}/{session_id}/close", data=form(http))
        assert closed.status_code == 303
        assert (await rows(server))["sessions"] == [(session_id, title, "closed")]
        missing = await http.post(f"{PAGE}/99999999999999999999/close", data=form(http))
        assert missing.status_code == 404


async def test_the_observer_seats_form(server: LiveServer) -> None:
    async with browser_of(server, "chair") as http:
        before = await rows(server)
        wrong = await http.post(
            f"/groups/{GROUP}/room/observer-seats",
            data=form(http, civil_society="two", private_sector="1"),
        )
        assert wrong.status_code == 422 and 'id="civil_society-error"' in wrong.text
        assert 'value="two"' in wrong.text
        assert await rows(server) == before
        done = await http.post(
            f"/groups/{GROUP}/room/observer-seats",
            data=form(http, civil_society="2", private_sector="1"),
        )
        assert done.status_code == 303
        assert (await rows(server))["seats"] == [{"civil_society": 2, "private_sector": 1}]


async def test_only_the_chair_runs_the_room_from_the_pages(server: LiveServer) -> None:
    async with browser_of(server, "member") as http:
        page = await http.get(PAGE)
        assert page.status_code == 200 and "Schedule a session" not in page.text
        before = await rows(server)
        refused = await http.post(PAGE, data=form(http, **SITTING))
        assert refused.status_code == 403 and "Only the chair" in refused.text
        seats = await http.post(
            f"/groups/{GROUP}/room/observer-seats", data=form(http, civil_society="5")
        )
        assert seats.status_code == 403
        assert await rows(server) == before
    async with client(server) as anonymous:
        assert (await anonymous.get(PAGE)).status_code == 401


async def test_the_chair_edits_a_scheduled_session(server: LiveServer) -> None:
    async with browser_of(server, "chair") as http:
        assert (await http.post(PAGE, data=form(http, **SITTING))).status_code == 303
        [(session_id, _title, _status)] = (await rows(server))["sessions"]
        edit = f"{PAGE}/{session_id}/edit"
        page = await http.get(edit)
        assert page.status_code == 200
        assert (
            'value="Financing mechanisms"' in page.text and 'value="2005-11-16T09:00"' in page.text
        )
        before = await rows(server)

        wrong = await http.post(edit, data=form(http, **{**SITTING, "title": "  "}))
        assert wrong.status_code == 422 and 'id="title-error"' in wrong.text
        assert "1. *Opening*" in wrong.text
        assert await rows(server) == before

        done = await http.post(edit, data=form(http, **{**SITTING, "title": "Renamed sitting"}))
        assert done.status_code == 303 and done.headers["location"] == PAGE
        assert (await rows(server))["sessions"] == [(session_id, "Renamed sitting", "scheduled")]
        assert (await http.get(f"{PAGE}/12345/edit")).status_code == 404


async def test_a_session_is_edited_over_the_api(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    created = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {**API_SITTING, "title": "First"},
    )
    path = f"/api/rooms/{GROUP}/sessions/{created.json()['id']}"
    before = await rows(server)
    refused = await api(member, "PUT", path, {**API_SITTING, "title": "Mine"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert await rows(server) == before
    edited = await api(chair, "PUT", path, {**API_SITTING, "title": "Second"})
    assert edited.status_code == 200 and edited.json()["title"] == "Second"
    assert (await rows(server))["events"] == before["events"] + 1


API_SITTING = {
    "title": "Sitting",
    "format": "briefing",
    "starts_at": "2005-11-16T09:00:00+00:00",
    "ends_at": "2005-11-16T10:00:00+00:00",
}
