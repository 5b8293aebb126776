"""A thread's kept page and JSON show the names as they are now: a person's new display
name, a group's new name, an action line's new title on its board reach every reader at once, though
no post changed and the worker trusts its board counters for a long while."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from forum.limits import MemoryRateLimiter
from tests.capture import EventCapture
from tests.people import set_role, signed_in
from tests.secretariat_support import create_secretariat
from tests.secretariat_support import signed_in as secretariat_signed_in
from tests.support import LiveServer, client, live_server, make_settings


@pytest.fixture
async def trusting(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> AsyncIterator[LiveServer]:
    # A window far longer than the test: only the board's counter can renew a page.
    settings = make_settings(sqlite_url, tmp_path).with_(board_trust_s=600.0)
    async with live_server(settings, limiter=limiter) as live:
        yield live


async def test_renames_reach_the_kept_pages_of_every_board(
    trusting: LiveServer, capture_events: EventCapture
) -> None:
    email = await create_secretariat(trusting)
    async with (
        signed_in(trusting, name="Amina Diallo") as author,
        client(trusting) as anonymous,
        secretariat_signed_in(trusting, email) as secretariat,
    ):
        assert author.user is not None
        await set_role(trusting, "gender-caucus", author.user["id"], "coordinator")
        created = await author.post(
            "/api/action-lines/C4/threads",
            json={
                "title": "Childcare in training",
                "body": "Budget for it.",
                "group": "gender-caucus",
            },
        )
        assert created.status_code == 201, created.text
        thread_id = created.json()["thread"]["id"]
        paths = (f"/api/threads/{thread_id}", f"/threads/{thread_id}")

        async def read_all() -> list[str]:
            pages = []
            for path in paths:
                response = await anonymous.get(path)
                assert response.status_code == 200, response.text
                pages.append(response.text)
            return pages

        for _ in range(2):  # the second read is served from what the worker keeps
            kept = await read_all()
        assert all("Amina Diallo" in page and "Gender Caucus" in page for page in kept)

        async with capture_events(trusting, expected=None, anywhere=True) as renamed:
            edited = await author.patch("/api/me", json={"display_name": "Amina D. Diallo"})
        assert edited.status_code == 200, edited.text
        assert all("Amina D. Diallo" in page for page in await read_all())
        # Every board with a counter moved, told as `renamed`, never as a post or thread.
        assert renamed.messages and all(
            channel.startswith("board:") and message["type"] == "renamed"
            for channel, message in renamed.messages
        )

        group = await secretariat.patch(
            "/api/groups/gender-caucus",
            json={"name": "Gender and ICT Caucus", "description": "", "action_lines": ["C4"]},
        )
        assert group.status_code == 200, group.text
        assert all("Gender and ICT Caucus" in page for page in await read_all())

        board = "/action-lines/C4"
        for _ in range(2):
            assert "Capacity building for all" not in (await anonymous.get(board)).text
        line = await secretariat.patch(
            "/api/action-lines/C4",
            json={"title": "Capacity building for all", "description": "", "facilitators": []},
        )
        assert line.status_code == 200, line.text
        assert "Capacity building for all" in (await anonymous.get(board)).text

        # A change of nothing the boards show (the language) keeps the pages.
        async with capture_events(trusting, expected=0, anywhere=True):
            same = await author.patch("/api/me", json={"language": "fr"})
        assert same.status_code == 200, same.text
