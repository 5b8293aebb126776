"""Every text field through the real server, over HTTP and WebSocket, on SQLite and
PostgreSQL: one-line fields (display names, organizations, thread and session titles)
refuse every character of the corpus, naming the field; bodies (posts, agendas,
interventions) refuse controls and are stored without hidden characters, keeping what
scripts and emoji need. A refusal stores and publishes nothing."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.models import ActionLine, Group, Post, RoomEvent, RoomSession, User
from forum.db.seed import load_seed_file, seed_structure
from tests import people
from tests.capture import EventCapture
from tests.discussions_support import line_id, open_thread, reply, snapshot
from tests.factory import GROUP
from tests.people import api, signed_in
from tests.rooms_support import peer, schedule_and_open
from tests.support import LiveServer, client, registration
from tests.text_corpus import BODY_KEPT, BODY_STRIPPED, CONTROLS, LINE_CORPUS, point

HIDDEN = "".join(BODY_STRIPPED)
KEPT = " ".join(BODY_KEPT)
# What a writer types, and what is stored of it.
TYPED = f"Ad{HIDDEN}min: {KEPT}"
STORED = f"Admin: {KEPT}"


def assert_refused(response: httpx.Response, field: str, char: str) -> None:
    assert response.status_code == 422, (field, point(char), response.text)
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("validation_error", field), (point(char), error)
    assert point(char) in error["message"]


def assert_clean(text: str) -> None:
    """No hidden character is left, but within what is kept (the flag's tags)."""
    for kept in BODY_KEPT:
        text = text.replace(kept, "")
    assert not set(text) & set(HIDDEN), [point(c) for c in set(text) & set(HIDDEN)]


async def count(server: LiveServer, model: Any) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_registration_refuses_disguised_names_and_organizations(
    server: LiveServer,
) -> None:
    users = await count(server, User)
    async with client(server) as http:
        for field in ("display_name", "organization"):
            for char in LINE_CORPUS:
                body = registration(**{field: f"Ad{char}min"})
                response = await http.post("/api/accounts", json=body)
                assert_refused(response, field, char)
        assert await count(server, User) == users
        plain = await http.post("/api/accounts", json=registration(display_name="Admin"))
        assert plain.status_code == 201, plain.text


async def test_thread_titles_refuse_the_corpus_and_post_bodies_refuse_controls(
    server: LiveServer, capture_events: EventCapture
) -> None:
    async with signed_in(server) as author:
        thread = await open_thread(author)
        thread_id, post_id = thread["thread"]["id"], thread["post"]["id"]
        before = await snapshot(server)
        lines = (await line_id(server, "C3"),)
        async with capture_events(server, expected=0, threads=(thread_id,), lines=lines):
            for char in LINE_CORPUS:
                response = await author.post(
                    "/api/action-lines/C3/threads", json={"title": f"Ad{char}min", "body": "Hi."}
                )
                assert_refused(response, "title", char)
            for char in CONTROLS:
                body = f"Thank{char} you"
                for method, path, payload in (
                    ("POST", "/api/action-lines/C3/threads", {"title": "Fine", "body": body}),
                    ("POST", f"/api/threads/{thread_id}/posts", {"body": body}),
                    ("PATCH", f"/api/posts/{post_id}", {"body": body}),
                ):
                    response = await author.request(method, path, json=payload)
                    assert_refused(response, "body", char)
            assert await snapshot(server) == before


async def test_post_bodies_are_stored_without_hidden_characters(server: LiveServer) -> None:
    async with signed_in(server) as author:
        opened = await open_thread(author, body=TYPED)
        answered = await reply(author, opened["thread"]["id"], TYPED)
        edited = await author.patch(f"/api/posts/{answered['id']}", json={"body": f"{TYPED}!"})
        assert edited.status_code == 200, edited.text
        shown = [opened["post"], answered, edited.json()]
        assert [post["body"] for post in shown] == [STORED, STORED, f"{STORED}!"]
        async with server.state["sessionmaker"]() as session:
            rows = (await session.execute(select(Post.body, Post.html, Post.plain))).all()
        assert {row.body for row in rows} == {STORED, f"{STORED}!"}
        for row in rows:
            for text in row:
                assert_clean(text)
            for kept in BODY_KEPT:
                assert kept in row.html and kept in row.plain


def session_body(**changes: str) -> dict[str, str]:
    return {
        "title": "Sitting",
        "agenda": "1. Opening",
        "format": "statements",
        "starts_at": "2005-11-16T09:00:00+01:00",
        "ends_at": "2005-11-16T12:00:00+01:00",
        **changes,
    }


async def test_session_titles_refuse_the_corpus_and_agendas_refuse_controls(
    server: LiveServer, capture_events: EventCapture
) -> None:
    chair = await people.person(server, role="chair")
    room = (await api(chair, "GET", f"/api/rooms/{GROUP}")).json()["room"]
    path = f"/api/rooms/{GROUP}/sessions"
    counts = (await count(server, RoomSession), await count(server, RoomEvent))
    headers = {"Authorization": f"Bearer {chair.token}"}
    async with (
        client(server, headers=headers) as http,
        capture_events(server, expected=1, rooms=(room,)) as recorder,
    ):
        for char in LINE_CORPUS:
            response = await http.post(path, json=session_body(title=f"Ad{char}min"))
            assert_refused(response, "title", char)
        for char in CONTROLS:
            response = await http.post(path, json=session_body(agenda=f"1. Open{char}ing"))
            assert_refused(response, "agenda", char)
        assert (await count(server, RoomSession), await count(server, RoomEvent)) == counts
        assert recorder.messages == []

        created = await http.post(path, json=session_body(agenda=TYPED))
        assert created.status_code == 201, created.text
        assert created.json()["agenda"] == STORED
        async with server.state["sessionmaker"]() as session:
            row = await session.get(RoomSession, created.json()["id"])
        assert row is not None and row.agenda == STORED
        assert_clean(row.agenda_html)
        assert all(kept in row.agenda_html for kept in BODY_KEPT)


async def test_interventions_refuse_controls_and_lose_hidden_characters(
    server: LiveServer, capture_events: EventCapture
) -> None:
    chair = await people.person(server, role="chair")
    listener = await people.person(server, role="member")
    await schedule_and_open(chair)
    async with peer(server, chair) as speaker, peer(server, listener) as other:
        room = (await speaker.join("participant"))["room"]
        await other.join("remote")
        events = await count(server, RoomEvent)
        async with capture_events(server, expected=1, rooms=(room,)) as recorder:
            for char in CONTROLS:
                answer = await speaker.call({"type": "speak", "body": f"Thank{char} you"})
                assert answer["type"] == "error", (point(char), answer)
                assert (answer["code"], answer["field"]) == ("validation_error", "body")
                assert point(char) in answer["message"]
            assert await count(server, RoomEvent) == events
            assert recorder.messages == []

            answer = await speaker.call({"type": "speak", "body": f"  {TYPED}  "})
            assert answer["type"] == "ack", answer
        heard = await other.expect("intervention", seq=answer["seq"])
        assert heard["body"] == STORED
        async with server.state["sessionmaker"]() as session:
            stored = await session.scalar(
                select(RoomEvent.data).where(
                    RoomEvent.room_id == room, RoomEvent.seq == heard["seq"]
                )
            )
        assert stored is not None and stored["body"] == STORED


async def test_the_seed_refuses_disguised_group_names_and_titles(session: AsyncSession) -> None:
    """Group names and action line titles come from the seed file, not from people;
    an edited file goes through the same rule, and a refusal writes nothing."""

    async def rows() -> list[Any]:
        found = list(
            (await session.execute(select(Group.slug, Group.name).order_by(Group.id))).all()
        )
        found += (await session.execute(select(ActionLine.code, ActionLine.title))).all()
        await session.commit()
        return found

    before = await rows()
    seed = load_seed_file()
    # The rule is clean_line's, run on the whole corpus in test_textcheck; here, that the
    # seed goes through it.
    for char in ("\u00ad", "\u202e", "\U000e0041", "\x00", "\x85"):
        for key, entry in (("groups", "name"), ("action_lines", "title")):
            data = copy.deepcopy(seed)
            data[key][0][entry] = f"Ad{char}min"
            data["groups"].append(
                {"slug": "new-caucus", "name": "New", "kind": "caucus", "family": "civil_society"}
            )
            with pytest.raises(ValueError, match=re.escape(point(char))):
                await seed_structure(session, data)
            assert not session.in_transaction()
    assert await rows() == before
