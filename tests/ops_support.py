"""What the operations tests share: a forum filled through the real server (accounts,
a co-signed position, an edited reply, a closed room session with its events), what
readers see of it, and a check that a copy of it carries on without collisions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select

from forum.db.models import Group, Post, Presence, Room, RoomEvent, Thread
from tests.factory import GROUP, PASSWORD
from tests.people import Person, api, person, set_role
from tests.rooms_support import peer, schedule_and_open
from tests.support import LiveServer, client


@dataclass
class Filled:
    people: list[Person]
    thread_id: int
    position_id: int
    reply_id: int
    session_id: int


async def fill_forum(server: LiveServer) -> Filled:
    chair = await person(server, role="chair", name="Chair Markus")
    member = await person(server, role="member", name="Remote Ama")
    coordinator = await person(
        server, family="civil_society", role="coordinator", group="gender-caucus"
    )
    # The chair of the room co-signs for a caucus he chairs too: one account less to hash.
    cosigner = chair
    await set_role(server, "youth-caucus", chair.id, "chair")

    opened = await api(
        coordinator,
        "POST",
        "/api/action-lines/C4/threads",
        {
            "title": "Capacity building must reach women",
            "body": "Training programmes should *budget* for childcare.",
            "group": "gender-caucus",
        },
    )
    assert opened.status_code == 201, opened.text
    thread_id, position_id = opened.json()["thread"]["id"], opened.json()["post"]["id"]
    signed = await api(
        cosigner, "POST", f"/api/posts/{position_id}/cosignatures", {"group": "youth-caucus"}
    )
    assert signed.status_code == 201, signed.text
    replied = await api(
        member, "POST", f"/api/threads/{thread_id}/posts", {"body": "Agreed, with numbers."}
    )
    assert replied.status_code == 201, replied.text
    reply_id = replied.json()["id"]
    edited = await api(
        member, "PATCH", f"/api/posts/{reply_id}", {"body": "Agreed, with **numbers**: 40%."}
    )
    assert edited.status_code == 200, edited.text

    sitting = await schedule_and_open(chair, title="Sitting on C4")
    async with peer(server, chair) as c, peer(server, member) as r:
        assert (await c.join("participant"))["type"] == "joined"
        assert (await r.join("remote"))["type"] == "joined"
        assert (await r.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await c.call({"type": "give_floor", "limit_s": 120}))["type"] == "ack"
        said = await r.call({"type": "speak", "body": "Our statement on childcare."})
        assert said["type"] == "ack", said
    closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{sitting['id']}/close")
    assert closed.status_code == 200, closed.text
    await presence_gone(server)
    return Filled([chair, member, coordinator], thread_id, position_id, reply_id, sitting["id"])


async def presence_gone(server: LiveServer) -> None:
    """The peers' departures are written by the hub after their sockets close."""
    for _ in range(200):
        async with server.state["sessionmaker"]() as session:
            if not await session.scalar(select(func.count()).select_from(Presence)):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("presence rows stayed after everyone left")


async def seen(server: LiveServer, filled: Filled) -> dict[str, Any]:
    """What readers see: lists, the thread (bodies and HTML), revisions, the
    transcript and a search."""
    async with client(server) as http:
        paths = {
            "threads": "/api/action-lines/C4/threads",
            "thread": f"/api/threads/{filled.thread_id}",
            "positions": "/api/action-lines/C4/positions",
            "revisions": f"/api/posts/{filled.reply_id}/revisions",
            "transcript": f"/api/sessions/{filled.session_id}/transcript",
            "search": "/api/search?q=childcare",
            "reply_search": "/api/search?q=numbers",
        }
        views: dict[str, Any] = {}
        for name, path in paths.items():
            response = await http.get(path)
            assert response.status_code == 200, (path, response.text)
            views[name] = response.json()
    # Ranks and excerpts are each engine's own (FTS5 on SQLite, tsvector on PostgreSQL):
    # what must agree is what is found, and that its hit is marked.
    for name, found in (("search", filled.position_id), ("reply_search", filled.reply_id)):
        hits = views.pop(name)["hits"]
        assert [hit["post_id"] for hit in hits] == [found]
        assert "<mark>" in hits[0]["snippet_html"]
        views[name] = [(hit["post_id"], hit["thread_id"], hit["author"]) for hit in hits]
    assert "<strong>numbers</strong>" in str(views["thread"])
    views["room_seq"] = await room_seq(server)
    return views


async def room_seq(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        seq = await session.scalar(
            select(Room.last_seq).join(Group, Group.id == Room.group_id).where(Group.slug == GROUP)
        )
    assert seq is not None
    return seq


async def carries_on(server: LiveServer, filled: Filled, views: dict[str, Any]) -> None:
    """People sign in with their old passwords; new rows take fresh ids, and the room's
    events continue its seq."""
    async with server.state["sessionmaker"]() as session:
        last_post = await session.scalar(select(func.max(Post.id)))
        last_thread = await session.scalar(select(func.max(Thread.id)))
    assert last_post is not None and last_thread is not None
    for who in filled.people[1:]:
        async with client(server) as http:
            assert (await http.login(who.user["email"], PASSWORD))["id"] == who.id
    # The same people and tokens, asking the server of the copy.
    chair, member = (replace(who, server=server) for who in filled.people[:2])
    replied = await api(member, "POST", f"/api/threads/{filled.thread_id}/posts", {"body": "More."})
    assert replied.status_code == 201, replied.text
    assert replied.json()["id"] == last_post + 1
    opened = await api(member, "POST", "/api/action-lines/C3/threads", {"title": "T", "body": "B"})
    assert opened.status_code == 201, opened.text
    assert opened.json()["thread"]["id"] == last_thread + 1
    await schedule_and_open(chair, title="The next sitting")
    async with server.state["sessionmaker"]() as session:
        seqs = list(
            await session.scalars(
                select(RoomEvent.seq)
                .join(Room, Room.id == RoomEvent.room_id)
                .join(Group, Group.id == Room.group_id)
                .where(Group.slug == GROUP, RoomEvent.seq > views["room_seq"])
                .order_by(RoomEvent.seq)
            )
        )
    assert seqs and seqs[0] == views["room_seq"] + 1
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
