"""The record of a closed session and the calendars, in a real browser against a real
server: the chair writes the minutes and lists a follow-up from the transcript page,
the group's coordinator moves it on, every change is listed with who and when; a
member finds no form and a forged one is refused with nothing written. A person makes
their private calendar address on the profile and a calendar client reads it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from playwright.async_api import Browser
from sqlalchemy import func, select

from forum.db.models import FollowUp, RecordChange, SessionMinutes
from tests.browser import signed_in
from tests.factory import GROUP
from tests.people import api, person
from tests.rooms_support import schedule_and_open
from tests.support import LiveServer, client, live_server, make_settings


async def record_rows(server: LiveServer) -> list[int]:
    async with server.state["sessionmaker"]() as session:
        return [
            await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (SessionMinutes, FollowUp, RecordChange)
        ]


@pytest.mark.browser
@pytest.mark.timeout(120)
async def test_minutes_and_follow_ups_kept_from_the_transcript_page(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    async with live_server(make_settings(sqlite_url, tmp_path)) as server:
        chair = await person(server, role="chair", name="Chair Markus")
        coordinator = await person(server, role="coordinator", name="Coord Amina")
        member = await person(server, role="member", name="Member Li")
        opened = await schedule_and_open(chair, title="Financing mechanisms")
        session_id = opened["id"]
        await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{session_id}/close")
        transcript = f"/sessions/{session_id}/transcript"

        c, c_problems = await signed_in(browser, server, chair)
        await c.goto(transcript)
        await c.fill("#minutes", "The group **agreed** on two studies.")
        await c.get_by_role("button", name="Save the minutes").click()
        await c.locator(".minutes strong", has_text="agreed").wait_for()
        assert "Last written by Chair Markus" in await c.locator("#record").inner_text()

        # A refusal beside its field, with what was typed kept.
        await c.fill("#item", "Draft the financing study")
        await c.fill("#due", "2999-01-01")
        await c.get_by_role("button", name="Add the follow-up").click()
        assert await c.locator("#due").get_attribute("aria-invalid") == "true"
        assert "YYYY-MM-DD" in await c.locator("#due-error").inner_text()
        assert await c.input_value("#item") == "Draft the financing study"
        await c.fill("#due", "2005-12-01")
        await c.get_by_role("button", name="Add the follow-up").click()
        row = c.locator("table.follow-ups tbody tr")
        await row.first.wait_for()
        assert "Draft the financing study" in await row.first.inner_text()
        assert "open" in await row.first.inner_text()

        # The coordinator, the other one who leads the group, moves it on.
        o, o_problems = await signed_in(browser, server, coordinator)
        await o.goto(transcript)
        follow_up = (await api(chair, "GET", f"/api/sessions/{session_id}/record")).json()[
            "follow_ups"
        ][0]["id"]
        # A refusal in one follow-up's form is shown beside that form's field.
        await o.fill(f"#fu{follow_up}-item", "")
        await o.locator(f"#fu{follow_up}-item").evaluate("e => e.removeAttribute('required')")
        await o.get_by_role("button", name="Save “Draft the financing study”").click()
        assert await o.locator(f"#fu{follow_up}-item").get_attribute("aria-invalid") == "true"
        await o.locator(f"#fu{follow_up}-item-error").wait_for()
        await o.fill(f"#fu{follow_up}-item", "Draft the financing study")
        await o.select_option(f"#fu{follow_up}-status", "in_progress")
        await o.get_by_role("button", name="Save “Draft the financing study”").click()
        await o.locator("td.status-in_progress").wait_for()
        changes = o.locator("ol.record-changes > li")
        assert await changes.count() == 3
        newest = await changes.first.inner_text()
        assert "Coord Amina" in newest and "open → in progress" in newest
        oldest = await changes.last.inner_text()
        assert "Chair Markus" in oldest and "wrote the minutes" in oldest

        # A member reads it all and finds no form; a forged form is refused, and
        # nothing is written.
        m, m_problems = await signed_in(browser, server, member)
        await m.goto(transcript)
        assert "two studies" in await m.locator(".minutes").inner_text()
        assert await m.locator("#record form").count() == 0
        before = await record_rows(server)
        await m.goto("/profile")
        token = await m.locator('input[name="csrf_token"]').first.get_attribute("value")
        assert token
        forged = await m.context.request.post(
            f"{server.url}/sessions/{session_id}/minutes",
            form={"csrf_token": token, "minutes": "Mine now", "version": "1"},
            headers={"origin": server.url},
        )
        assert forged.status == 403
        assert await record_rows(server) == before

        for page in (c, o, m):
            await page.context.close()
        assert c_problems == [] and o_problems == [] and m_problems == []


@pytest.mark.browser
@pytest.mark.timeout(120)
async def test_the_private_calendar_from_the_profile(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    async with live_server(make_settings(sqlite_url, tmp_path)) as server:
        member = await person(server, role="member", name="Member Li")
        chair = await person(server, role="chair")
        await schedule_and_open(chair, title="Financing mechanisms")
        page, problems = await signed_in(browser, server, member)

        # The room and the group link to their feeds.
        await page.goto(f"/groups/{GROUP}/room")
        room_feed = await page.get_by_role(
            "link", name="The room's sessions in your calendar (iCalendar)"
        ).get_attribute("href")
        await page.goto(f"/groups/{GROUP}")
        group_feed = await page.get_by_role("link", name="Calendar (iCalendar)").get_attribute(
            "href"
        )
        assert room_feed == f"/api/rooms/{GROUP}/calendar.ics"
        assert group_feed == f"/api/groups/{GROUP}/calendar.ics"

        await page.goto("/profile")
        await page.get_by_role("button", name="Make a private calendar address").click()
        await page.locator("#calendar-address").wait_for()
        address = await page.input_value("#calendar-address")
        # A calendar client: no cookie, the address alone.
        async with client(server) as http:
            feed = await http.get(urlsplit(address).path)
        assert feed.status_code == 200
        entries = Calendar.from_ical(feed.content).walk("VEVENT")
        assert [str(e["SUMMARY"]) for e in entries] == ["Financing mechanisms"]

        await page.get_by_role("button", name="Stop the private address").click()
        await page.get_by_role("button", name="Make a private calendar address").wait_for()
        async with client(server) as http:
            assert (await http.get(urlsplit(address).path)).status_code == 404

        # The chair cancels a scheduled session from the chair's page: the feeds say so.
        later = await api(
            chair,
            "POST",
            f"/api/rooms/{GROUP}/sessions",
            {
                "title": "Later",
                "starts_at": "2005-11-18T09:00:00Z",
                "ends_at": "2005-11-18T10:00:00Z",
            },
        )
        assert later.status_code == 201
        c, c_problems = await signed_in(browser, server, chair)
        await c.goto(f"/groups/{GROUP}/room/sessions")
        await c.get_by_role("button", name="Cancel “Later”").click()
        await c.get_by_text("Later").wait_for(state="detached")
        async with client(server) as http:
            feed = await http.get(f"/api/groups/{GROUP}/calendar.ics")
        statuses = {
            str(e["SUMMARY"]): str(e["STATUS"])
            for e in Calendar.from_ical(feed.content).walk("VEVENT")
        }
        assert statuses == {"Financing mechanisms": "CONFIRMED", "Later": "CANCELLED"}
        for each in (page, c):
            await each.context.close()
        assert problems == [] and c_problems == []
