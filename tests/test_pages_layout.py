"""What a newcomer sees of the layout, in a real browser: the skip link, and pages that
fit a 360-pixel phone."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, FloatRect

from tests.browser import open_page
from tests.discussions_support import open_thread
from tests.factory import GROUP
from tests.people import api, person
from tests.rooms_support import peer, schedule_and_open
from tests.support import LiveServer, client

pytestmark = pytest.mark.browser


def _overlap(a: FloatRect, b: FloatRect) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


async def test_the_skip_link_shows_on_tab_above_the_header(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    page, problems = await open_page(browser, sqlite_server)
    await page.goto("/groups")
    skip = page.locator("a.skip")
    hidden = await skip.bounding_box()
    assert hidden is not None and hidden["width"] <= 1 and hidden["height"] <= 1
    assert await skip.get_attribute("href") == "#main"
    assert await page.locator("#main").count() == 1

    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    shown = await skip.bounding_box()
    header = await page.locator("header.site").bounding_box()
    assert shown is not None and header is not None
    assert shown["width"] > 50 and shown["height"] > 10
    assert shown["y"] >= 0 and shown["x"] >= 0
    assert not _overlap(shown, header)

    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    assert problems == []


# What sticks out, named in a failure.
_WIDE = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 360)
  .slice(0, 5).map(e => `${e.tagName}.${e.className} ${e.getBoundingClientRect().width}`)"""
LONG = "Multistakeholderism" * 9  # one word of 171 letters, no break in it


async def _closed_session_with_a_long_word(server: LiveServer) -> int:
    chair = await person(server, role="chair", name="Chair " + LONG[:80])
    opened = await schedule_and_open(chair, fmt="open_debate", title=LONG)
    async with peer(server, chair) as c:
        assert (await c.join("participant"))["type"] == "joined"
        assert (await c.call({"type": "speak", "body": f"We hold that {LONG} matters."}))[
            "type"
        ] == "ack"
    closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{opened['id']}/close")
    assert closed.status_code == 200, closed.text
    return int(opened["id"])


async def test_search_and_transcript_fit_a_360_pixel_phone(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    async with client(sqlite_server) as http:
        await http.signup(display_name="Author " + LONG[:80])
        await open_thread(http, title=f"Connectivity {LONG}", body=f"Connectivity {LONG} now.")
    session_id = await _closed_session_with_a_long_word(sqlite_server)

    page, problems = await open_page(browser, sqlite_server, viewport={"width": 360, "height": 740})
    for path, shown in (
        ("/search?q=Connectivity", ".hits li"),
        (f"/sessions/{session_id}/transcript", ".transcript li"),
    ):
        await page.goto(path)
        assert await page.locator(shown).count() >= 1, path
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width, await page.evaluate(_WIDE))
    assert problems == []
