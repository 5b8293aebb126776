"""The front page through the real server: sessions live and next in every room, the
latest positions with their co-signers, each line's activity, in a fixed number of
statements however much there is to show."""

from __future__ import annotations

import re
from typing import Any

from tests.capture import QueryCounter
from tests.discussions_support import open_thread, reply
from tests.people import api, person, set_role, signed_in
from tests.rooms_support import schedule_and_open
from tests.support import LiveServer, client


async def _statements(
    server: LiveServer, count_queries: QueryCounter, path: str, **headers: str
) -> tuple[int, str]:
    """The statements one GET runs, and the page: those of the request alone, not of
    the server's clocks that run on the same engine while it is served."""
    async with client(server) as http:
        with count_queries(server.state["engine"], requests_only=True) as queries:
            response = await http.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return len(queries), response.text


async def _schedule(chair: Any, title: str, starts: str, ends: str, room: str = "wgig") -> int:
    response = await api(
        chair,
        "POST",
        f"/api/rooms/{room}/sessions",
        {"title": title, "agenda": "", "format": "briefing", "starts_at": starts, "ends_at": ends},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_the_front_page_shows_what_is_live_next_and_latest(
    server: LiveServer, count_queries: QueryCounter
) -> None:
    chair = await person(server, role="chair")
    await schedule_and_open(chair, title="Sitting on C5")
    await _schedule(chair, "Drafting the report", "2099-03-01T09:00:00Z", "2099-03-01T11:00:00Z")
    async with signed_in(server) as coordinator, signed_in(server) as signer:
        assert coordinator.user and signer.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        await set_role(server, "media-caucus", signer.user["id"], "chair")
        thread = (await open_thread(coordinator, "C4", "Training budgets"))["thread"]
        await reply(coordinator, thread["id"], "Our position", group="gender-caucus")
        position = (await coordinator.get(f"/api/threads/{thread['id']}")).json()["posts"][-1]
        signed = await signer.post(
            f"/api/posts/{position['id']}/cosignatures", json={"group": "media-caucus"}
        )
        assert signed.status_code == 201, signed.text
    _, page = await _statements(server, count_queries, "/")
    live = page.split('id="live-now"')[1].split("</section>")[0]
    assert "Sitting on C5" in live and 'href="/groups/wgig/room"' in live
    coming = page.split('id="next-up"')[1].split("</section>")[0]
    assert "Drafting the report" in coming and "Sitting on C5" not in coming
    assert re.search(r'datetime="2099-03-01T09:00:00\+00:00"', coming)
    latest = page.split('id="latest-positions"')[1].split("</section>")[0]
    assert f'href="/threads/{thread["id"]}#post-{position["id"]}"' in latest
    assert "Gender Caucus" in latest and "1 co-signer" in latest
    lines = page.split('id="lines"')[1].split("</section>")[0]
    c4 = lines.split('href="/action-lines/C4"')[1].split("</li>")[0]
    assert "1 thread" in c4 and "2 posts" in c4 and "last post" in c4
    assert 'href="/sessions"' in page


async def test_the_front_page_reads_in_a_fixed_number_of_statements(
    server: LiveServer, count_queries: QueryCounter
) -> None:
    before, _ = await _statements(server, count_queries, "/")
    assert before > 0  # the request's own statements are the ones counted
    chair = await person(server, role="chair")
    await schedule_and_open(chair, title="One room open")
    other = await person(server, role="chair", group="africa-caucus", family="civil_society")
    opened = await _schedule(
        other, "Another room", "2005-11-16T09:00:00Z", "2005-11-16T10:00:00Z", "africa-caucus"
    )
    assert (await api(other, "POST", f"/api/rooms/africa-caucus/sessions/{opened}/open")).is_success
    for n in range(5):
        day = f"2099-0{n + 1}-01"
        await _schedule(chair, f"Later {n}", f"{day}T09:00:00Z", f"{day}T12:00:00Z")
    async with signed_in(server) as coordinator:
        assert coordinator.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        for code in ("C1", "C2", "C3"):
            thread = (await open_thread(coordinator, code, f"On {code}"))["thread"]
            await reply(coordinator, thread["id"], f"Position on {code}", group="gender-caucus")
    after, page = await _statements(server, count_queries, "/")
    assert "Another room" in page and "Later 4" in page and "On C3" in page
    assert page.count("co-signers") == 3
    assert after == before


async def test_the_header_links_to_the_schedule(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        page = (await http.get("/groups")).text
    header = page.split("<header")[1].split("</header>")[0]
    assert 'href="/sessions"' in header
