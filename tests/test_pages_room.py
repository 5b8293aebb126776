"""The live room page in a real browser against a real server: four people and a
signed-out spectator in one session, hands and the floor by rotation, an observer who
finds no way to speak (and whose frames the server refuses anyway), and a server
restart in the middle that every page comes back from with nothing lost or doubled."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from forum.actions.room_reads import room_for
from forum.actions.speaking import do_intervene
from forum.broker.memory import MemoryBroker
from forum.db.engine import create_engine, end_read, make_sessionmaker
from forum.db.models import Presence, RoomEvent, User
from forum.domain.vocabulary import Seat
from forum.settings import Settings
from tests.browser import live, open_page, signed_in
from tests.factory import GROUP
from tests.page_walk import DESKTOP, PHONE, screenshot
from tests.people import Person, api, person
from tests.rooms_support import Peer, schedule_and_open
from tests.support import LiveServer, client, free_port, live_server, make_settings

ROOM = f"/groups/{GROUP}/room"
HTML_BUDGET = 60 * 1024
ASSETS_BUDGET = 100 * 1024


async def signed_in_page(browser: Browser, server: LiveServer, who: Person, seat: str) -> Page:
    page, problems = await signed_in(browser, server, who)
    page.problems = problems  # type: ignore[attr-defined]
    await page.goto(f"{ROOM}?seat={seat}")
    return page


async def said(page: Page) -> list[str]:
    return await page.locator("#stream li.said:not(.pending) .body").all_inner_texts()


async def wait_said(page: Page, body: str) -> None:
    await page.locator("#stream li.said:not(.pending) .body", has_text=body).wait_for(
        timeout=15_000
    )


async def events(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(RoomEvent)) or 0)


async def say_offline(url: str, user_id: int, body: str) -> None:
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            user = await session.get(User, user_id)
            assert user is not None
            _group, room = await room_for(session, GROUP)
            await end_read(session)
            await do_intervene(
                session, MemoryBroker(), room.id, user=user, seat=Seat.PARTICIPANT, body=body
            )
    finally:
        await engine.dispose()


def problems_of(page: Page) -> list[str]:
    # A page cut off by the restart logs its failed reconnection attempts: expected.
    return [p for p in page.problems if "WebSocket" not in p]  # type: ignore[attr-defined]


@pytest.mark.browser
@pytest.mark.timeout(150)
async def test_a_live_session_in_five_browsers_survives_a_restart(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    settings: Settings = make_settings(sqlite_url, tmp_path)
    port = free_port()
    contexts: list[BrowserContext] = []
    async with live_server(settings, port=port) as server:
        chair = await person(server, role="chair", name="Chair Markus")
        member = await person(server, family="private_sector", role="member", name="Biz Kim")
        remote = await person(
            server, family="international_org", role="contact_point", name="Remote Ama"
        )
        observer = await person(server, family="civil_society", name="Observer Rosa")
        await schedule_and_open(chair, fmt="statements", title="Financing mechanisms")

        c = await signed_in_page(browser, server, chair, "participant")
        m = await signed_in_page(browser, server, member, "participant")
        r = await signed_in_page(browser, server, remote, "remote")
        o = await signed_in_page(browser, server, observer, "observer")
        spectator, spectator_problems = await open_page(browser, server)
        spectator.problems = spectator_problems  # type: ignore[attr-defined]
        await spectator.goto(ROOM)
        pages = [c, m, r, o, spectator]
        contexts = [page.context for page in pages]
        for page in pages:
            await live(page)

        # The first HTML and the page's CSS and JS stay within their budgets.
        async with client(server) as anonymous:
            html = await anonymous.get(ROOM)
            assert len(html.content) <= HTML_BUDGET
            assets = 0
            for path in (
                "/static/forum.css",
                "/static/room.css",
                "/static/room.js",
                "/static/voice.js",
                "/static/floor.js",
            ):
                assets += len((await anonymous.get(path)).content)
            assert assets <= ASSETS_BUDGET

        # Everyone sees the spectator counted, and the four people listed by family.
        for page in pages:
            await page.locator("#spectators", has_text="1 person watching").wait_for()
            await page.locator("#presence-list li").nth(3).wait_for()
        assert "Observer Rosa" in await c.locator("#presence-list").inner_text()
        await c.locator(
            "#observer-seats", has_text="1 of 1 observer seats taken, 0 free"
        ).wait_for()

        # The observer has no way to speak or raise a hand, and is told so.
        assert await o.locator("#hand").count() == 0
        assert await o.locator("#speak").count() == 0
        assert "cannot speak or raise a hand" in await o.locator("#observer-note").inner_text()
        assert await spectator.locator("#hand, #speak, #chair").count() == 0
        # Only the chair has the chair's controls.
        assert await c.locator("#chair").is_visible()
        assert await m.locator("#chair").count() == 0

        # First come, first served: the chair reorders by keyboard, then clears the queue.
        await m.get_by_role("button", name="Raise my hand").click()
        await c.locator("#queue li", has_text="Biz Kim").wait_for()
        await r.get_by_role("button", name="Raise my hand").click()
        await c.locator("#queue li", has_text="Remote Ama").wait_for()
        await c.get_by_role("button", name="Move up: Remote Ama").focus()
        await c.keyboard.press("Enter")
        await m.locator("#queue li").first.filter(has_text="Remote Ama").wait_for()
        assert await m.locator("#queue li .q-name bdi").all_inner_texts() == [
            "Remote Ama",
            "Biz Kim",
        ]
        await c.get_by_role("button", name="Lower all hands").click()
        await m.locator("#queue-empty").wait_for()
        assert await r.locator("#queue li").count() == 0

        # Rotation across families, chosen from the page.
        await c.select_option("#policy-choice", "rotation")
        await c.get_by_role("button", name="Change the order").click()
        await m.locator("#policy", has_text="rotation").wait_for()

        # The private sector speaks first, then raises a hand again before the
        # international organization does: rotation still calls the latter first.
        await m.get_by_role("button", name="Raise my hand").click()
        await m.locator("#hand", has_text="Lower my hand").wait_for(timeout=5000)
        await c.locator("#queue li", has_text="Biz Kim").wait_for()
        await c.get_by_role("button", name="Next speaker").click()
        await m.locator("#floor-now", has_text="You have the floor").wait_for()
        # Said assertively to a screen reader; everything else goes to the polite log.
        await m.locator("#assertive", has_text="You have the floor").wait_for(state="attached")
        assert await c.locator("#stream").get_attribute("role") == "log"
        await m.fill("#speak-body", "The private sector view.")
        await m.press("#speak-body", "Enter")
        await wait_said(c, "The private sector view.")
        await c.get_by_role("button", name="Take the floor back").click()
        await m.locator("#floor-now", has_text="Nobody has the floor").wait_for()
        await m.get_by_role("button", name="Raise my hand").click()
        await c.locator("#queue li", has_text="Biz Kim").wait_for()
        await r.get_by_role("button", name="Raise my hand").click()
        await c.locator("#queue li", has_text="Remote Ama").wait_for()
        queue = await c.locator("#queue li .q-name bdi").all_inner_texts()
        assert queue == ["Remote Ama", "Biz Kim"]
        await c.get_by_role("button", name="Next speaker").click()
        await r.locator("#floor-now", has_text="You have the floor").wait_for()
        await r.locator("#floor-now .countdown").wait_for()
        # Out of turn: the server's refusal shows beside the box, nothing is posted.
        await m.fill("#speak-body", "Out of turn")
        await m.press("#speak-body", "Enter")
        await m.locator("#speak-error", has_text="floor").wait_for()
        assert await m.input_value("#speak-body") == "Out of turn"
        # Shift+Enter starts a new line, Enter sends.
        await r.locator("#speak-body").press_sequentially("A remote statement,")
        await r.press("#speak-body", "Shift+Enter")
        await r.locator("#speak-body").press_sequentially("in two lines.")
        await r.press("#speak-body", "Enter")
        for page in pages:
            await wait_said(page, "in two lines.")

        # The observer's frames, sent by hand, are refused and change nothing.
        before = await events(server)
        headers = {"Authorization": f"Bearer {observer.token}", "Origin": server.origin}
        async with connect(server.ws_url + "/ws", additional_headers=headers) as ws:
            raw = Peer(ws)
            await raw.next()
            assert (await raw.join("observer"))["type"] == "joined"
            for frame in ({"type": "raise_hand"}, {"type": "speak", "body": "May I?"}):
                answer = await raw.call(frame)
                assert answer["code"] == "observer_cannot_speak"
        assert await events(server) == before

        # Screenshots, desktop and phone (when FORUM_SCREENSHOTS=1 asks).
        await screenshot(r, "room-desktop", DESKTOP)
        await screenshot(c, "room-phone", PHONE)

        # Something typed before the cut stays in the box.
        await c.fill("#speak-body", "A draft that must survive")
        seen_before = [await said(page) for page in pages]

    # The server is down: every page says it is reconnecting.
    for page in pages:
        await page.wait_for_selector('#conn[data-state="reconnecting"]', timeout=10_000)
        assert "Reconnecting" in await page.locator("#conn").inner_text()

    # While it is down, the chair says something (the action on the same database): the
    # pages can only learn of it by resuming from their last seq.
    await say_offline(sqlite_url, chair.id, "Said while the server was down.")

    async with live_server(settings, port=port) as server:
        for page in pages:
            await live(page)
        assert await c.input_value("#speak-body") == "A draft that must survive"
        await r.fill("#speak-body", "After the restart.")
        await r.press("#speak-body", "Enter")
        for page in pages:
            await wait_said(page, "After the restart.")
        expected = [*seen_before[0], "Said while the server was down.", "After the restart."]
        for page, before_cut in zip(pages, seen_before, strict=True):
            assert before_cut == seen_before[0]
            assert await said(page) == expected
        assert expected == [
            "The private sector view.",
            "A remote statement,\nin two lines.",
            "Said while the server was down.",
            "After the restart.",
        ]
        # The chair closes the session from the page; every page says so, with the
        # transcript a link away.
        await c.set_viewport_size({"width": 1280, "height": 900})
        await c.get_by_role("button", name="Close the session").click()
        for page in pages:
            await page.locator("#stream li.note", has_text="The session is closed").wait_for()
            assert await page.locator("#session-title").inner_text() == (
                "No session is open in this room."
            )
        link = c.get_by_role("link", name="read the transcript")
        assert (await link.get_attribute("href") or "").endswith("/transcript")
        for page in pages:
            assert problems_of(page) == []
        for context in contexts:
            await context.close()


async def test_the_page_reads_without_javascript(sqlite_server: LiveServer) -> None:
    chair = await person(sqlite_server, role="chair", name="Chair Markus")
    await schedule_and_open(chair, fmt="open_debate", title="Open debate on C7")
    async with client(sqlite_server) as anonymous:
        page = await anonymous.get(ROOM)
    assert page.status_code == 200
    text = page.text
    assert "Open debate on C7" in text and "<noscript>" in text
    assert 'role="log"' in text and "watching signed out" in text
    assert "<script>" not in text  # data only, in JSON elements (the CSP forbids inline)


async def speak_all(server: LiveServer, who: Person, bodies: list[str]) -> None:
    """Say each of `bodies`, a connection per 30 of them (the frame rate limit is per
    connection)."""
    for start in range(0, len(bodies), 30):
        async with connect(server.ws_url + "/ws", additional_headers=who.headers(server)) as ws:
            speaker = Peer(ws)
            await speaker.next()
            await speaker.join("participant")
            for body in bodies[start : start + 30]:
                assert (await speaker.call({"type": "speak", "body": body}))["type"] == "ack"


@pytest.mark.browser
async def test_the_xss_corpus_runs_no_script_on_the_room_page(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    """RELIABILITY row 1 on the room page: names, agendas and interventions, rendered
    by the server and arriving live through room.js."""
    from tests.test_xss_browser import TRAP, VECTORS, sprung

    settings = make_settings(sqlite_url, tmp_path).with_(post_limit=10_000)
    async with live_server(settings) as server:
        chair = await person(server, role="chair", name='"><img src=x onerror=alert(1)>')
        await schedule_and_open(chair, fmt="open_debate", title="<script>alert(1)</script>")
        half = len(VECTORS) // 2
        await speak_all(server, chair, VECTORS[:half])
        page, problems = await open_page(browser, server)
        await page.add_init_script(TRAP)
        await page.goto(ROOM)
        await live(page)
        assert not await sprung(page)
        await speak_all(server, chair, VECTORS[half:])
        bodies = page.locator("#stream li.said")
        await bodies.nth(len(VECTORS) - 1).wait_for(timeout=15_000)
        assert await bodies.count() == len(VECTORS)
        assert not await sprung(page)
        assert problems == []
        await page.context.close()


async def test_the_front_page_lists_the_rooms_open_now(sqlite_server: LiveServer) -> None:
    chair = await person(sqlite_server, role="chair")
    async with client(sqlite_server) as anonymous:
        assert "Live now" not in (await anonymous.get("/")).text
        opened = await schedule_and_open(chair, title="Open sitting on C5")
        home = (await anonymous.get("/")).text
        assert "Live now" in home and f'href="{ROOM}"' in home and "Open sitting on C5" in home
        closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{opened['id']}/close")
        assert closed.status_code == 200
        assert "Live now" not in (await anonymous.get("/")).text


async def test_a_full_room_stays_within_the_page_budget(sqlite_server: LiveServer) -> None:
    """A hall of 150 and a long debate: the first HTML still fits in 60 KiB."""
    server = sqlite_server
    chair = await person(server, role="chair", name="Chair Markus")
    await schedule_and_open(chair, fmt="open_debate")
    async with server.state["sessionmaker"]() as session:
        _group, room = await room_for(session, GROUP)
        await end_read(session)
        room_id = room.id
        async with session.begin():
            for n in range(150):
                user = User(
                    email=f"hall{n}@example.org",
                    password_hash="not-a-hash",
                    display_name=f"Delegate {n:03d} of a long delegation name",
                    family="government",
                    organization="Ministry of Information and Communication Technologies",
                    country="BR",
                    region="latin-america",
                )
                session.add(user)
                await session.flush()
                session.add(
                    Presence(
                        id=f"hall-{n}",
                        room_id=room_id,
                        user_id=user.id,
                        seat="remote",
                        family="government",
                        worker="elsewhere",
                    )
                )
        chair_user = await session.get(User, chair.id)
        assert chair_user is not None
        await end_read(session)
        for n in range(70):
            await do_intervene(
                session,
                MemoryBroker(),
                room_id,
                user=chair_user,
                seat=Seat.PARTICIPANT,
                body=f"Point {n}: " + "the financing of infrastructure in rural areas " * 9,
            )
    async with client(server) as anonymous:
        page = await anonymous.get(ROOM)
    assert page.status_code == 200
    assert len(page.content) <= HTML_BUDGET, len(page.content)
    listed = page.text.count('class="p-name"')
    assert 0 < listed < 150 and f"and {150 - listed} more." in page.text
    # The newest interventions are the ones shown.
    assert "Point 69:" in page.text and "Point 0:" not in page.text
