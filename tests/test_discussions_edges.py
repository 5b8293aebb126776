"""Edges of the discussion actions: what is not there, and replies nested past the
deepest level shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from forum.domain.discussions import MAX_DEPTH
from forum.settings import Settings
from tests.discussions_support import open_thread, reply
from tests.people import signed_in
from tests.support import LiveServer, make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path).with_(post_limit=1000)


async def test_what_is_not_there_is_404(server: LiveServer) -> None:
    async with signed_in(server) as author:
        missing_thread = await author.post("/api/threads/987654/posts", json={"body": "Hello"})
        assert missing_thread.status_code == 404
        assert missing_thread.json()["error"]["code"] == "not_found"
        edit = await author.patch("/api/posts/987654", json={"body": "Changed"})
        assert edit.status_code == 404
        delete = await author.delete("/api/posts/987654")
        assert delete.status_code == 404


async def test_replies_past_the_deepest_level_stay_beside_what_they_answer(
    server: LiveServer,
) -> None:
    async with signed_in(server) as author:
        created = await open_thread(author)
        thread_id = created["thread"]["id"]
        parent = None
        depths = []
        for n in range(MAX_DEPTH + 3):
            post = await reply(author, thread_id, f"level {n}", parent_id=parent)
            depths.append(post["depth"])
            parent = post["id"]
        assert depths[: MAX_DEPTH + 1] == list(range(MAX_DEPTH + 1))
        assert depths[MAX_DEPTH + 1 :] == [MAX_DEPTH, MAX_DEPTH]
        posts = (await author.get(f"/api/threads/{thread_id}")).json()["posts"]
        bodies = [p["html"] for p in posts]
        # Tree order still follows the conversation.
        assert [b for b in bodies if "level" in b] == [
            f'<p dir="auto">level {n}</p>\n' for n in range(MAX_DEPTH + 3)
        ]
