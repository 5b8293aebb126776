"""Posting is limited per address as well as per account (RELIABILITY row 10)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from forum.settings import Settings
from tests.capture import EventCapture
from tests.discussions_support import line_id, open_thread, snapshot
from tests.people import signed_in
from tests.support import FakeClock, LiveServer, make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path).with_(post_limit=100, post_ip_limit=3)


async def test_one_address_cannot_post_past_its_limit_through_many_accounts(
    server: LiveServer, clock: FakeClock
) -> None:
    async with signed_in(server) as first, signed_in(server) as second, signed_in(server) as third:
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


async def test_posts_sent_at_once_take_only_the_places_left(
    server: LiveServer, clock: FakeClock, capture_events: EventCapture
) -> None:
    codes = ("C1", "C2", "C4", "C5", "C6", "C7")
    c_lines = [await line_id(server, code) for code in codes]
    async with signed_in(server) as first, signed_in(server) as second:
        before = await snapshot(server)
        async with capture_events(server, expected=3, lines=tuple(c_lines)):
            # Threads on six boards, so that no board's lock puts the writes in a row.
            responses = await asyncio.gather(
                *(
                    (first, second)[n % 2].post(
                        f"/api/action-lines/{codes[n % 6]}/threads",
                        json={"title": f"Burst {n}", "body": "All at once."},
                    )
                    for n in range(12)
                )
            )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] * 3 + [429] * 9
        for refused in (r for r in responses if r.status_code == 429):
            assert refused.json()["error"]["code"] == "rate_limited"
            assert int(refused.headers["retry-after"]) >= 1
        after = await snapshot(server)
        assert after["threads"] == before["threads"] + 3
        assert after["posts"] == before["posts"] + 3
