"""Positions speak for a group; other groups co-sign them, once, through their chair
or coordinator. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.capture import EventCapture
from tests.discussions_support import line_id, open_thread, reply, snapshot
from tests.people import set_role, signed_in
from tests.support import Client, LiveServer, client


async def _position(coordinator: Client, code: str = "C4") -> dict[str, Any]:
    response = await coordinator.post(
        f"/api/action-lines/{code}/threads",
        json={
            "title": "Capacity building must reach women",
            "body": "Training programmes should *budget* for childcare.",
            "group": "gender-caucus",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_position_speaks_for_its_group_and_lists_its_cosigners(
    server: LiveServer,
) -> None:
    async with (
        signed_in(server) as coordinator,
        signed_in(server) as chair,
        signed_in(server) as other_coordinator,
    ):
        assert coordinator.user and chair.user and other_coordinator.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        await set_role(server, "youth-caucus", chair.user["id"], "chair")
        await set_role(server, "africa-caucus", other_coordinator.user["id"], "coordinator")

        created = await _position(coordinator)
        post = created["post"]
        assert post["kind"] == "position" and post["group"]["slug"] == "gender-caucus"
        assert created["thread"]["position_count"] == 1

        for signer, slug in ((chair, "youth-caucus"), (other_coordinator, "africa-caucus")):
            signed = await signer.post(
                f"/api/posts/{post['id']}/cosignatures", json={"group": slug}
            )
            assert signed.status_code == 201, signed.text
        assert [c["group"]["slug"] for c in signed.json()["cosigners"]] == [
            "youth-caucus",
            "africa-caucus",
        ]

        # A position may also be a reply in someone else's thread.
        thread = await open_thread(chair, code="C4", title="Curricula")
        answer = await reply(
            coordinator, thread["thread"]["id"], "We agree.", group="gender-caucus"
        )
        assert answer["kind"] == "position" and answer["depth"] == 0

    async with client(server) as anonymous:
        listing = (await anonymous.get("/api/action-lines/C4/positions")).json()
        [gender] = listing["groups"]
        assert gender["group"]["name"] == "Gender Caucus"
        assert [p["thread_title"] for p in gender["positions"]] == [
            "Capacity building must reach women",
            "Curricula",
        ]
        assert len(gender["positions"][0]["cosigners"]) == 2
        page = await anonymous.get("/action-lines/C4/positions")
        assert page.status_code == 200
        assert "Gender Caucus" in page.text and "Co-signed by" in page.text
        assert "Youth Caucus" in page.text
        thread_page = await anonymous.get(f"/threads/{created['thread']['id']}")
        assert "Position of" in thread_page.text and "Gender Caucus" in thread_page.text


async def test_cosigning_rules_refuse_and_change_nothing(
    server: LiveServer, capture_events: EventCapture
) -> None:
    async with (
        signed_in(server) as coordinator,
        signed_in(server) as chair,
        signed_in(server) as member,
        signed_in(server) as own_chair,
    ):
        assert coordinator.user and chair.user and member.user and own_chair.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        await set_role(server, "gender-caucus", own_chair.user["id"], "chair")
        await set_role(server, "youth-caucus", chair.user["id"], "chair")
        await set_role(server, "youth-caucus", member.user["id"], "member")
        created = await _position(coordinator)
        position_id = created["post"]["id"]
        thread_id = created["thread"]["id"]
        comment = await reply(chair, thread_id, "A comment, not a position")
        first = await chair.post(
            f"/api/posts/{position_id}/cosignatures", json={"group": "youth-caucus"}
        )
        assert first.status_code == 201

        cases = [
            ("twice by one group", chair, position_id, "youth-caucus", 409),
            ("by its own group", own_chair, position_id, "gender-caucus", 409),
            ("by a mere member", member, position_id, "youth-caucus", 403),
            ("for a group one is not in", member, position_id, "africa-caucus", 403),
            ("a comment", chair, comment["id"], "youth-caucus", 409),
            ("an unknown post", chair, 10**9, "youth-caucus", 404),
            ("for an unknown group", chair, position_id, "no-such-caucus", 404),
        ]
        c4 = await line_id(server, "C4")
        for name, who, post_id, slug, status in cases:
            before = await snapshot(server)
            async with capture_events(server, expected=0, threads=(thread_id,), lines=(c4,)):
                response = await who.post(
                    f"/api/posts/{post_id}/cosignatures", json={"group": slug}
                )
            assert response.status_code == status, (name, response.text)
            assert response.json()["error"]["message"], name
            assert await snapshot(server) == before, name

        # Only a chair or coordinator posts a position for the group.
        before = await snapshot(server)
        async with capture_events(server, expected=0, threads=(thread_id,), lines=(c4,)):
            refused = await member.post(
                "/api/action-lines/C4/threads",
                json={"title": "Youth view", "body": "We think", "group": "youth-caucus"},
            )
        assert refused.status_code == 403 and refused.json()["error"]["field"] == "group"
        assert await snapshot(server) == before

        # A deleted position can no longer be co-signed.
        assert (await coordinator.delete(f"/api/posts/{position_id}")).status_code == 200
        late = await own_chair.post(
            f"/api/posts/{position_id}/cosignatures", json={"group": "gender-caucus"}
        )
        assert late.status_code == 409
        listing = (await coordinator.get("/api/action-lines/C4/positions")).json()
        assert listing["groups"] == []
