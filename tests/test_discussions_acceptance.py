"""Done when: a visitor with no account reads every board, thread, position, revision
history and feed; a caucus coordinator posts a position that two other caucuses
co-sign; search finds it by a word of its body; an open thread page receives a new
reply live. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re

import feedparser

from tests.people import set_role, signed_in
from tests.support import LiveServer, client


async def test_discussions_done_when(server: LiveServer) -> None:
    async with (
        signed_in(server) as coordinator,
        signed_in(server) as youth_chair,
        signed_in(server) as africa_coordinator,
        signed_in(server, family="government", country="BR") as delegate,
        client(server) as visitor,
    ):
        assert coordinator.user and youth_chair.user and africa_coordinator.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        await set_role(server, "youth-caucus", youth_chair.user["id"], "chair")
        await set_role(server, "africa-caucus", africa_coordinator.user["id"], "coordinator")

        # The Gender Caucus's coordinator posts its position on C4.
        created = await coordinator.post(
            "/api/action-lines/C4/threads",
            json={
                "title": "Capacity building that reaches women",
                "body": "Every ICT training budget should include **childcare**.",
                "group": "gender-caucus",
            },
        )
        assert created.status_code == 201, created.text
        thread_id = created.json()["thread"]["id"]
        position_id = created.json()["post"]["id"]

        # Two other caucuses co-sign it through their chair and coordinator.
        for signer, slug in ((youth_chair, "youth-caucus"), (africa_coordinator, "africa-caucus")):
            signed = await signer.post(
                f"/api/posts/{position_id}/cosignatures", json={"group": slug}
            )
            assert signed.status_code == 201, signed.text
        await coordinator.patch(
            f"/api/posts/{position_id}",
            json={"body": "Every ICT training budget should include **childcare** and transport."},
        )

        # A visitor with no account reads every board, the thread, the positions, the
        # revision history and the feeds.
        lines = (await visitor.get("/api/action-lines")).json()["action_lines"]
        home = await visitor.get("/")
        for line in lines:
            assert f'href="/action-lines/{line["code"]}"' in home.text
            board = await visitor.get(f"/action-lines/{line['code']}")
            assert board.status_code == 200, line["code"]
            assert (
                await visitor.get(f"/api/action-lines/{line['code']}/threads")
            ).status_code == 200
            feed = feedparser.parse(
                (await visitor.get(f"/action-lines/{line['code']}/feed.atom")).content
            )
            assert feed.bozo == 0, line["code"]
        board = await visitor.get("/action-lines/C4")
        assert "Capacity building that reaches women" in board.text

        thread = await visitor.get(f"/threads/{thread_id}")
        assert "Position of" in thread.text and "Gender Caucus" in thread.text
        assert "Youth Caucus" in thread.text and "Africa Caucus" in thread.text

        positions = (await visitor.get("/api/action-lines/C4/positions")).json()
        [gender] = positions["groups"]
        signers = [c["group"]["slug"] for c in gender["positions"][0]["cosigners"]]
        assert signers == ["youth-caucus", "africa-caucus"]
        assert "Co-signed by" in (await visitor.get("/action-lines/C4/positions")).text

        history = (await visitor.get(f"/api/posts/{position_id}/revisions")).json()
        assert len(history["revisions"]) == 2
        assert "transport" in (await visitor.get(f"/posts/{position_id}/revisions")).text

        caucus_feed = feedparser.parse(
            (await visitor.get("/groups/gender-caucus/positions.atom")).content
        )
        assert caucus_feed.bozo == 0
        assert "Co-signed by Youth Caucus, Africa Caucus" in caucus_feed.entries[0].content[0].value

        # Search finds the position by a word of its body.
        found = (await visitor.get("/api/search", params={"q": "childcare"})).json()["hits"]
        assert [hit["post_id"] for hit in found] == [position_id]
        assert "<mark>childcare</mark>" in found[0]["snippet_html"]
        by_kind = await visitor.get(
            "/api/search", params={"q": "childcare", "kind": "position", "group": "gender-caucus"}
        )
        assert [hit["post_id"] for hit in by_kind.json()["hits"]] == [position_id]

        # The open thread page receives a new reply live.
        script_tag = re.search(
            r'<script type="module" src="(/static/thread\.[0-9a-f]{12}\.js)">', thread.text
        )
        assert script_tag, "the page loads thread.js under its hashed name"
        assert (await visitor.get(script_tag.group(1))).status_code == 200
        seq = (await visitor.get(f"/api/threads/{thread_id}")).json()["seq"]
        async with visitor.stream("GET", f"/api/threads/{thread_id}/events?after={seq}") as stream:
            answer = await delegate.post(
                f"/api/threads/{thread_id}/posts",
                json={"body": "Our ministry will fund it.", "parent_id": position_id},
            )
            assert answer.status_code == 201
            async with asyncio.timeout(5):
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        message = json.loads(line[6:])
                        break
        assert message["op"] == "new" and message["post"]["id"] == answer.json()["id"]
        assert "ministry" in message["post"]["html"]
