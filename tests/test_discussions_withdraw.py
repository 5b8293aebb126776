"""A group takes back its co-signature of a position, through whoever is its chair or
coordinator now, over JSON and from the thread page; readers see it go. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from tests.capture import EventCapture
from tests.discussions_support import line_id, snapshot
from tests.people import set_role, signed_in
from tests.support import Client, LiveServer, client, token_in


async def _signed_position(coordinator: Client, chair: Client) -> dict[str, Any]:
    created = await coordinator.post(
        "/api/action-lines/C4/threads",
        json={"title": "Childcare", "body": "Budget for it.", "group": "gender-caucus"},
    )
    assert created.status_code == 201, created.text
    post = created.json()["post"]
    signed = await chair.post(
        f"/api/posts/{post['id']}/cosignatures", json={"group": "youth-caucus"}
    )
    assert signed.status_code == 201, signed.text
    return dict(created.json())


async def test_the_cosigning_group_withdraws_and_readers_are_told(
    server: LiveServer, capture_events: EventCapture
) -> None:
    async with (
        signed_in(server) as coordinator,
        signed_in(server) as chair,
        signed_in(server) as next_chair,
    ):
        assert coordinator.user and chair.user and next_chair.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        await set_role(server, "youth-caucus", chair.user["id"], "chair")
        # The signature is the group's: its coordinator may take it back, though the
        # chair signed.
        await set_role(server, "youth-caucus", next_chair.user["id"], "coordinator")
        created = await _signed_position(coordinator, chair)
        post_id, thread_id = created["post"]["id"], created["thread"]["id"]
        c4 = await line_id(server, "C4")
        before = await snapshot(server)
        async with capture_events(
            server, expected=2, threads=(thread_id,), lines=(c4,)
        ) as published:
            withdrawn = await next_chair.delete(f"/api/posts/{post_id}/cosignatures/youth-caucus")
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["cosigners"] == []
        after = await snapshot(server)
        assert after["cosignatures"] == before["cosignatures"] - 1
        ops = [(message["type"], message["op"]) for _, message in published.messages]
        assert ops == [("post", "uncosign"), ("thread", "update")]
        event = published.messages[0][1]
        assert event["post"]["cosigners"] == [] and event["seq"] > 0
        # What a reader resuming from before the change replays says the same.
        async with client(server) as reader:
            again = (await reader.get(f"/api/posts/{post_id}")).json()
        assert again["cosigners"] == []
        # Once withdrawn, the group may sign again.
        resigned = await chair.post(
            f"/api/posts/{post_id}/cosignatures", json={"group": "youth-caucus"}
        )
        assert resigned.status_code == 201


async def test_withdrawals_that_are_not_allowed_change_nothing(
    server: LiveServer, capture_events: EventCapture
) -> None:
    async with (
        signed_in(server) as coordinator,
        signed_in(server) as chair,
        signed_in(server) as member,
        signed_in(server) as other_chair,
    ):
        assert coordinator.user and chair.user and member.user and other_chair.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        await set_role(server, "youth-caucus", chair.user["id"], "chair")
        await set_role(server, "youth-caucus", member.user["id"], "member")
        await set_role(server, "africa-caucus", other_chair.user["id"], "chair")
        created = await _signed_position(coordinator, chair)
        post_id, thread_id = created["post"]["id"], created["thread"]["id"]
        c4 = await line_id(server, "C4")
        cases = [
            ("a mere member of the signing group", member, post_id, "youth-caucus", 403),
            ("the chair of another group", other_chair, post_id, "youth-caucus", 403),
            ("a group that did not sign", other_chair, post_id, "africa-caucus", 409),
            ("the position's own group", coordinator, post_id, "gender-caucus", 409),
            ("an unknown group", chair, post_id, "no-such-caucus", 404),
            ("an unknown post", chair, 10**9, "youth-caucus", 404),
        ]
        for name, who, target, slug, status in cases:
            before = await snapshot(server)
            async with capture_events(server, expected=0, threads=(thread_id,), lines=(c4,)):
                response = await who.delete(f"/api/posts/{target}/cosignatures/{slug}")
            assert response.status_code == status, (name, response.text)
            assert response.json()["error"]["message"], name
            assert await snapshot(server) == before, name
    async with client(server) as anonymous:
        refused = await anonymous.delete(f"/api/posts/{post_id}/cosignatures/youth-caucus")
        assert refused.status_code == 401


def _article(html: str, post_id: int) -> str:
    match = re.search(rf'<article [^>]*id="post-{post_id}".*?</article>', html, re.S)
    assert match, f"no post {post_id} in the page"
    return match.group(0)


async def test_the_thread_page_offers_withdrawal_to_the_signing_group_only(
    server: LiveServer,
) -> None:
    async with signed_in(server) as coordinator, client(server) as chair, client(server) as other:
        assert coordinator.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        chair_user = await chair.signup()
        other_user = await other.signup()
        await set_role(server, "youth-caucus", chair_user["id"], "chair")
        await set_role(server, "africa-caucus", other_user["id"], "chair")
        created = await _signed_position(coordinator, chair)
        post_id, thread_id = created["post"]["id"], created["thread"]["id"]

        page = await chair.get(f"/threads/{thread_id}")
        mine = _article(page.text, post_id)
        assert f'action="/posts/{post_id}/withdraw"' in mine
        assert "Withdraw the co-signature of Youth Caucus" in mine
        theirs = _article((await other.get(f"/threads/{thread_id}")).text, post_id)
        assert "/withdraw" not in theirs and f'action="/posts/{post_id}/cosign"' in theirs

        # The form of the page, without JavaScript: 303 back to the post, signature gone.
        done = await chair.post(
            f"/posts/{post_id}/withdraw",
            data={"csrf_token": token_in(mine), "group": "youth-caucus"},
        )
        assert done.status_code == 303 and done.headers["location"].endswith(f"#post-{post_id}")
        after = _article((await chair.get(f"/threads/{thread_id}")).text, post_id)
        assert "Co-signed by" not in after and "/withdraw" not in after
        assert f'action="/posts/{post_id}/cosign"' in after  # and may sign again

        # Without the form's token nothing is withdrawn.
        await chair.post(
            f"/posts/{post_id}/cosign", data={"csrf_token": chair.csrf, "group": "youth-caucus"}
        )
        before = await snapshot(server)
        forged = await chair.post(f"/posts/{post_id}/withdraw", data={"group": "youth-caucus"})
        assert forged.status_code == 403
        assert await snapshot(server) == before
