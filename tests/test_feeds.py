"""Atom feeds per action line and per group's positions: valid Atom that feedparser
reads without a bozo flag."""

from __future__ import annotations

import feedparser

from tests.discussions_support import open_thread, reply
from tests.people import set_role, signed_in
from tests.support import LiveServer, client


async def test_action_line_and_positions_feeds_are_valid_atom(server: LiveServer) -> None:
    async with (
        signed_in(server) as author,
        signed_in(server) as coordinator,
        signed_in(server) as signer,
        client(server) as reader,
    ):
        assert coordinator.user and signer.user
        await set_role(server, "media-caucus", coordinator.user["id"], "coordinator")
        await set_role(server, "youth-caucus", signer.user["id"], "chair")
        empty = await reader.get("/action-lines/C9/feed.atom")
        assert empty.status_code == 200
        assert feedparser.parse(empty.content).bozo == 0

        created = await open_thread(
            author, code="C9", title="Press freedom & <pluralism>", body="Media *matter*."
        )
        thread_id = created["thread"]["id"]
        answer = await reply(author, thread_id, "Community radio \u202b\u05e9\u05dc\u05d5\u05dd")
        position = await reply(
            coordinator,
            thread_id,
            "The caucus holds that **licences** must be fair.",
            group="media-caucus",
        )
        signed = await signer.post(
            f"/api/posts/{position['id']}/cosignatures", json={"group": "youth-caucus"}
        )
        assert signed.status_code == 201
        gone = await reply(author, thread_id, "to be deleted")
        await author.delete(f"/api/posts/{gone['id']}")

        response = await reader.get("/action-lines/C9/feed.atom")
        assert response.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(response.content)
        assert feed.bozo == 0, feed.get("bozo_exception")
        assert feed.version == "atom10"
        assert feed.feed.title.startswith("C9: ")
        assert feed.feed.links[0].href.endswith("/action-lines/C9/feed.atom")
        titles = [entry.title for entry in feed.entries]
        assert titles == [
            "Position of Media Caucus: Press freedom & <pluralism>",
            "Re: Press freedom & <pluralism>",
            "Press freedom & <pluralism>",
        ]
        newest = feed.entries[0]
        assert newest.link.endswith(f"/posts/{position['id']}")
        assert newest.id == newest.link
        assert "<strong>licences</strong>" in newest.content[0].value
        assert "Co-signed by Youth Caucus" in newest.content[0].value
        assert newest.author == coordinator.user["display_name"]
        assert {tag.term for tag in newest.tags} == {"C9", "position"}
        assert feed.entries[1].link.endswith(f"/posts/{answer['id']}")
        assert "to be deleted" not in response.text

        positions = await reader.get("/groups/media-caucus/positions.atom")
        parsed = feedparser.parse(positions.content)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.feed.title == "Positions of Media Caucus"
        assert [e.link for e in parsed.entries] == [newest.link]
        none_yet = feedparser.parse(
            (await reader.get("/groups/youth-caucus/positions.atom")).content
        )
        assert none_yet.bozo == 0 and none_yet.entries == []

        assert (await reader.get("/action-lines/C99/feed.atom")).status_code == 404
        assert (await reader.get("/groups/no-such-group/positions.atom")).status_code == 404
        board = await reader.get("/action-lines/C9")
        assert 'type="application/atom+xml"' in board.text
