"""Posting is limited per address as well as per account (RELIABILITY row 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forum.settings import Settings
from tests.conftest import FakeClock, make_settings
from tests.discussions_support import open_thread, person, snapshot
from tests.support import LiveServer


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path).with_(post_limit=100, post_ip_limit=3)


async def test_one_address_cannot_post_past_its_limit_through_many_accounts(
    server: LiveServer, clock: FakeClock
) -> None:
    async with person(server) as first, person(server) as second, person(server) as third:
        thread_id = (await open_thread(first))["thread"]["id"]
        reply = {"body": "From the same hall"}
        assert (await first.post(f"/api/threads/{thread_id}/posts", json=reply)).status_code == 201
        assert (await second.post(f"/api/threads/{thread_id}/posts", json=reply)).status_code == 201
        before = await snapshot(server)
        refused = await third.post(f"/api/threads/{thread_id}/posts", json=reply)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert await snapshot(server) == before
        clock.advance(61)
        assert (await third.post(f"/api/threads/{thread_id}/posts", json=reply)).status_code == 201
