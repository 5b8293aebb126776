"""Voice alongside text in a real browser against a real server: the chair sets the
conference link on the schedule page, a seated participant's room page shows it and a
spectator's never has it; the chair records a voice turn from the room page and the
others see it arrive."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.browser import live, open_page, signed_in
from tests.factory import GROUP
from tests.page_walk import screenshot
from tests.people import person
from tests.support import live_server, make_settings

ROOM = f"/groups/{GROUP}/room"
LINK = "https://meet.jit.si/AgoraWSIS-Financing-7f3k"


@pytest.mark.browser
@pytest.mark.timeout(120)
async def test_the_link_for_those_seated_and_a_voice_turn_from_the_page(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    async with live_server(make_settings(sqlite_url, tmp_path)) as server:
        chair = await person(server, role="chair", name="Chair Markus")
        member = await person(server, family="private_sector", role="member", name="Biz Kim")

        # The chair schedules the session with its conference link, from the form.
        c, c_problems = await signed_in(browser, server, chair)
        await c.goto(f"{ROOM}/sessions")
        await c.fill("#title", "Financing mechanisms")
        await c.fill("#starts_at", "2005-11-16T09:00")
        await c.fill("#ends_at", "2005-11-16T12:00")
        await c.fill("#conference_url", LINK)
        await c.get_by_role("button", name="Schedule", exact=True).click()
        await c.get_by_role("button", name="Open “Financing mechanisms”").click()
        await c.wait_for_url(f"**{ROOM}")
        await live(c)

        m, m_problems = await signed_in(browser, server, member)
        await m.goto(f"{ROOM}?seat=participant")
        await live(m)
        spectator, s_problems = await open_page(browser, server)
        await spectator.goto(ROOM)
        await live(spectator)

        # Seated: the link, opening elsewhere, telling that site nothing of the room.
        link = m.locator("#conference a")
        await link.wait_for(timeout=10_000)
        assert await link.get_attribute("href") == LINK
        assert await link.get_attribute("rel") == "noopener noreferrer"
        assert await link.get_attribute("target") == "_blank"
        assert "also held by voice and video" in await m.locator("#conference").inner_text()
        await c.locator("#conference a").wait_for(timeout=10_000)
        # A spectator has neither the link nor a way to find it.
        assert await spectator.locator("#conference").is_hidden()
        assert LINK not in await spectator.content()

        # The chair records that Biz Kim spoke by voice for two minutes.
        await c.locator(f'#voice-who option[value="{member.id}"]').wait_for(state="attached")
        await c.select_option("#voice-who", str(member.id))
        await c.select_option("#voice-duration", "120")
        await c.get_by_role("button", name="Record the voice turn").click()
        for page in (m, spectator, c):
            await page.locator(
                "#stream li.note", has_text="Biz Kim spoke by voice for 120 s."
            ).wait_for(timeout=15_000)
        # It arrives in the stream that screen readers follow politely.
        assert await m.locator("#stream").get_attribute("aria-live") == "polite"
        assert await c.locator("#chair-error").is_hidden()

        # A reload renders it from the server, at its place in the proceedings.
        await m.reload()
        await live(m)
        assert await m.locator("#stream li.note.voice").inner_text() != ""
        assert "Biz Kim" in await m.locator("#stream li.note.voice").inner_text()

        # On a 360-pixel phone the link wraps and the chair's form fits.
        for page in (m, c):
            await page.set_viewport_size({"width": 360, "height": 800})
            assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        await c.locator("#voice-form").scroll_into_view_if_needed()
        await screenshot(c, "room-voice-phone")

        assert c_problems == [] and m_problems == [] and s_problems == []
        for page in (c, m, spectator):
            await page.context.close()
