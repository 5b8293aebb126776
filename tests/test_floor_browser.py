"""The floor in a real browser against a real server: a note on a request to speak and a
point of order taken ahead of the queue, both shown as such; the chair pauses and
resumes the speaker with the time left kept; a family runs out of its budget and every
page sees its time left at zero; the chair's live equity figures and the transcript's
match the turns given. The budgets form refuses what the session cannot hold."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.browser import live, signed_in
from tests.factory import GROUP
from tests.people import api, person
from tests.support import live_server, make_settings

ROOM = f"/groups/{GROUP}/room"


async def figure(page: Page, box: str, part: str, key: str, name: str) -> str:
    cell = page.locator(
        f'{box} table[data-part="{part}"] tr[data-key="{key}"] td[data-figure="{name}"]'
    )
    return (await cell.inner_text()).strip()


@pytest.mark.browser
@pytest.mark.timeout(150)
async def test_points_of_order_notes_pause_and_a_family_out_of_time(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    async with live_server(make_settings(sqlite_url, tmp_path)) as server:
        chair = await person(server, role="chair", name="Chair Markus", country="FR")
        ama = await person(server, role="member", name="Ama Owusu", country="GH")
        rosa = await person(
            server, family="civil_society", role="member", name="Rosa Diaz", country="BR"
        )
        created = await api(
            chair,
            "POST",
            f"/api/rooms/{GROUP}/sessions",
            {
                "title": "Financing mechanisms",
                "format": "statements",
                "starts_at": "2005-11-16T09:00:00+01:00",
                "ends_at": "2005-11-16T12:00:00+01:00",
            },
        )
        sid = created.json()["id"]

        # The budgets form, without JavaScript's help: more than the three hours is
        # refused beside the form, what was typed kept.
        c, c_problems = await signed_in(browser, server, chair)
        await c.goto(f"{ROOM}/sessions")
        await c.get_by_role("link", name="Speaking time per family: “Financing mechanisms”").click()
        await c.fill("#government", "150")
        await c.fill("#civil_society", "45")
        await c.get_by_role("button", name="Save the speaking time").click()
        assert "add up to 195 minutes" in await c.locator(".error-summary").inner_text()
        assert await c.input_value("#government") == "150"
        await c.fill("#government", "60")
        await c.get_by_role("button", name="Save the speaking time").click()
        await c.wait_for_url(f"**{ROOM}/sessions")
        # Seconds through the API, so that the family runs out while the test waits.
        answer = await api(
            chair,
            "PUT",
            f"/api/rooms/{GROUP}/sessions/{sid}/budgets",
            {"budgets": {"government": 4, "civil_society": 2700}},
        )
        assert answer.status_code == 200, answer.text
        await c.get_by_role("button", name="Open “Financing mechanisms”").click()
        await c.wait_for_url(f"**{ROOM}")
        await live(c)
        a, a_problems = await signed_in(browser, server, ama)
        await a.goto(f"{ROOM}?seat=participant")
        await live(a)
        r, r_problems = await signed_in(browser, server, rosa)
        await r.goto(f"{ROOM}?seat=remote")
        await live(r)
        for page in (c, a, r):
            assert (
                "0:04" in await page.locator('#budgets li[data-family="government"]').inner_text()
            )

        # Ama asks to speak in favour; Rosa raises a point of order after her.
        await a.select_option("#hand-note", "pro")
        await a.locator("#hand").click()
        await c.locator(f'#queue li[data-user="{ama.id}"] .tag.note-pro').wait_for()
        await r.locator("#point-of-order").click()
        first = c.locator("#queue li").first
        await first.locator(".tag.point-of-order").wait_for()
        assert await first.get_attribute("data-user") == str(rosa.id)
        assert "for" in await a.locator(f'#queue li[data-user="{ama.id}"]').inner_text()

        # The chair calls the next speaker: the point of order.
        await c.get_by_role("button", name="Next speaker").click()
        await a.locator("#floor-now .tag.point-of-order").wait_for()
        assert "Rosa Diaz" in await a.locator("#floor-now").inner_text()
        await r.locator("#floor-now.mine").wait_for()

        # Then Ama, with a minute asked: her family's four seconds cut it.
        await c.select_option("#limit", "60")
        await c.get_by_role("button", name="Next speaker").click()
        await a.locator("#floor-now.mine").wait_for()
        await c.get_by_role("button", name="Pause the speaker").click()
        await a.locator("#floor-now .countdown.paused").wait_for()
        kept = await a.locator("#floor-now .countdown.paused").inner_text()
        assert "paused" in kept and "0:0" in kept
        await asyncio.sleep(5)
        # Paused past the turn's end: Ama still has the floor.
        assert await a.locator("#floor-now.mine").count() == 1
        await c.get_by_role("button", name="Resume the speaker").click()
        await c.locator("#stream li.note", has_text="Speaking time is over").wait_for(
            timeout=10_000
        )
        for page in (c, a, r):
            spent = page.locator('#budgets li[data-family="government"].spent')
            await spent.wait_for(timeout=5_000)
            assert "0:00" in await spent.inner_text()

        # A government request now waits at the end, out of time.
        await a.locator("#hand").click()
        await c.locator(f'#queue li[data-user="{ama.id}"] .tag.out-of-time').wait_for()

        # The chair's live figures: one turn each, one point of order, four seconds.
        box = "#equity-tables"
        await c.locator(
            f'{box} tr[data-key="government"] td[data-figure="speaking_s"][data-seconds="4"]'
        ).wait_for(timeout=5_000)
        assert await figure(c, box, "by_family", "government", "turns") == "1"
        assert await figure(c, box, "by_family", "civil_society", "points_of_order") == "1"
        assert await figure(c, box, "by_side", "south", "turns") == "2"
        assert await a.locator("#equity-live").count() == 0

        await c.get_by_role("button", name="Close the session").click()
        await c.get_by_role("link", name="read the transcript").click()
        await c.wait_for_url(f"**/sessions/{sid}/transcript")
        section = "#equity-section"
        assert await figure(c, section, "by_family", "government", "turns") == "1"
        assert await figure(c, section, "by_family", "government", "speaking_s") == "0:04"
        assert await figure(c, section, "by_family", "civil_society", "points_of_order") == "1"
        assert await figure(c, section, "by_side", "north", "turns") == "0"
        assert "Point of order" in await c.locator("ol.transcript").inner_text()

        # The group's view over a period finds the session.
        await c.goto(f"/groups/{GROUP}/equity")
        await c.get_by_role("link", name="Financing mechanisms").wait_for()
        assert await figure(c, "main", "by_family", "government", "turns") == "1"

        assert c_problems == [] and a_problems == [] and r_problems == []
        for page in (c, a, r):
            await page.context.close()
