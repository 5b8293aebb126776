"""Access windows and observer requests in a real browser against a real server.

The chair of the civil society plenary opens its last 15 minutes to governments from
the page; a government delegate's room page is refused before the window, seated in
it, and moved to observer when it ends, live, the chair's page seeing it. The time the
window rules read is a clock the test moves; the server's own timer finds the end.
A civil society observer asks the chair of a working group for an observer seat from
its page, the chair approves it on a page, and the observer then takes the seat.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.browser import live, signed_in
from tests.people import person
from tests.support import WallClock, live_server, make_settings

PLENARY = "cs-plenary"


def local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


async def status(page: Page) -> str:
    return await page.locator("#conn").inner_text()


@pytest.mark.browser
@pytest.mark.timeout(150)
async def test_a_briefing_window_for_a_government_delegate(
    sqlite_url: str, tmp_path: Path, browser: Browser, window_clock: WallClock
) -> None:
    async with live_server(make_settings(sqlite_url, tmp_path)) as server:
        chair = await person(server, family="civil_society", role="chair", group=PLENARY)
        delegate = await person(server, family="government", name="Delegate Anna")
        # The form's fields hold minutes.
        window_clock.now = window_clock.now.replace(second=0, microsecond=0)
        starts = window_clock.now - timedelta(hours=1)
        ends = window_clock.now + timedelta(hours=1)

        c, c_problems = await signed_in(browser, server, chair)
        await c.goto(f"/groups/{PLENARY}/room/sessions")
        await c.fill("#title", "Daily plenary")
        await c.fill("#starts_at", local(starts))
        await c.fill("#ends_at", local(ends))
        await c.get_by_role("button", name="Schedule", exact=True).click()
        await c.get_by_role("button", name="Open “Daily plenary”").click()
        await c.wait_for_url(f"**/groups/{PLENARY}/room")
        await c.goto(f"/groups/{PLENARY}/room/sessions")
        await c.get_by_role("link", name="Access windows of “Daily plenary”").click()

        # A window that would run past the session's end is refused beside its field.
        await c.fill("#length", "20")
        await c.get_by_role("button", name="Add the window").click()
        error = c.locator("#length-error")
        assert "after its session ends" in await error.inner_text()
        assert await c.locator("#length").get_attribute("aria-invalid") == "true"
        assert await c.locator("#length").input_value() == "20"
        assert "open to its group's members only" in await c.locator("main").inner_text()
        # The last 15 minutes, for governments, then an observer seat: the defaults.
        await c.fill("#length", "15")
        await c.get_by_role("button", name="Add the window").click()
        listed = c.locator("ul.windows li")
        await listed.wait_for()
        assert "Government" in await listed.inner_text()
        assert await c.locator("#length-error").count() == 0

        await c.goto(f"/groups/{PLENARY}/room")
        await live(c)

        # Before the window: refused, told when.
        d, d_problems = await signed_in(browser, server, delegate)
        await d.goto(f"/groups/{PLENARY}/room")
        await d.wait_for_selector('#conn[data-state="refused"]', timeout=20_000)
        at = (ends - timedelta(minutes=15)).strftime("%H:%M")
        assert f"open to you from {at}" in await status(d)

        # In the window: seated, and the chair's page sees them.
        window_clock.now = ends - timedelta(minutes=10)
        await d.reload()
        await live(d)
        assert "remote" in await status(d)
        chair_presence = c.locator("#presence", has_text="Delegate Anna")
        await chair_presence.wait_for(timeout=10_000)

        # The window ends: moved to observer, live, and the room sees it.
        window_clock.now = ends + timedelta(seconds=1)
        await c.locator("#stream li.note", has_text="Delegate Anna now observe").wait_for(
            timeout=15_000
        )
        await d.wait_for_function(
            "document.querySelector('#conn').textContent.includes('observer')", timeout=15_000
        )
        await d.locator("#stream li.note", has_text="Delegate Anna now observe").wait_for()
        assert c_problems == []
        # The delegate's page logged the refused join's answer, nothing else.
        assert [p for p in d_problems if "access_window_closed" not in p] == []
        for page in (c, d):
            await page.context.close()


@pytest.mark.browser
@pytest.mark.timeout(120)
async def test_an_approved_observer_request(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    async with live_server(make_settings(sqlite_url, tmp_path)) as server:
        chair = await person(server, role="chair", name="WGIG chair")
        observer = await person(server, family="civil_society", name="Observer Rosa")
        delegate = await person(server, family="government", name="Delegate Anna")

        o, o_problems = await signed_in(browser, server, observer)
        await o.goto("/groups/wgig")
        await o.get_by_role("link", name="Observers").click()
        await o.get_by_role("button", name="Ask the chair").click()
        await o.locator("p.notice", has_text="waiting for the chair").wait_for()

        # A room that allows none for the family: refused beside the form.
        d, d_problems = await signed_in(browser, server, delegate)
        await d.goto(f"/groups/{PLENARY}/observers")
        await d.get_by_role("button", name="Ask the chair").click()
        assert "no observer seats for government" in await d.locator("#ask-error").inner_text()

        c, c_problems = await signed_in(browser, server, chair)
        await c.goto("/groups/wgig/observers")
        request = c.locator("div.request", has_text="Observer Rosa")
        # Refusing needs a reason: refused beside it, and the request still waits.
        await request.get_by_role("button", name="Refuse").click()
        assert "must not be empty" in await c.locator("div.request .field-error").inner_text()
        await (
            c.locator("div.request", has_text="Observer Rosa")
            .get_by_role("button", name="Approve")
            .click()
        )
        approved = c.locator("ul.observers li", has_text="Observer Rosa")
        await approved.wait_for()
        assert "Civil society" in await approved.inner_text()
        await c.goto("/groups/wgig")
        assert "Observer Rosa" in await c.locator("ul.observers").inner_text()

        # The observer takes the seat, without asking again.
        await o.goto("/groups/wgig/room")
        await live(o)
        assert "observer" in await status(o)
        assert c_problems == [] and o_problems == []
        assert [p for p in d_problems if "409" not in p] == []
        for page in (c, o, d):
            await page.context.close()
