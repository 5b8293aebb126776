"""The front page, the schedule and a group's page in a real browser (Chromium), under
the strict Content-Security-Policy: joining and leaving a caucus, a chair's
appointments, a live session found from the front page, the schedule's filter."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from tests.browser import open_page
from tests.factory import PASSWORD
from tests.people import api, person, set_role
from tests.rooms_support import schedule_and_open
from tests.support import LiveServer, client
from tests.test_pages_group import CAUCUS, _roles

pytestmark = pytest.mark.browser


async def _sign_in(page: Page, server: LiveServer, email: str, to: str) -> None:
    await page.goto(f"/login?next={to}")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(server.url + to)


async def test_a_newcomer_joins_a_caucus_from_its_page_and_leaves_it(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    async with client(sqlite_server) as http:
        me = await http.register(family="civil_society", display_name="Awa Newcomer")
    page, problems = await open_page(browser, sqlite_server)
    await _sign_in(page, sqlite_server, me["email"], f"/groups/{CAUCUS}")
    await page.get_by_role("button", name="Join as member").click()
    await page.wait_for_url(f"**/groups/{CAUCUS}#membership")
    membership = page.locator("section.membership")
    assert "You are a member of this group: member." in await membership.inner_text()
    assert "Awa Newcomer" in await page.inner_text("#role-member + ul")
    assert (await _roles(sqlite_server))[me["id"]] == "member"

    await page.get_by_role("link", name="Leave the group").click()
    await page.wait_for_url(f"**/groups/{CAUCUS}/leave")
    assert me["id"] in await _roles(sqlite_server)  # asking changed nothing
    await page.get_by_role("button", name="Yes, leave the group").click()
    await page.wait_for_url(f"**/groups/{CAUCUS}")
    await page.get_by_role("button", name="Join as member").wait_for()
    assert me["id"] not in await _roles(sqlite_server)
    assert problems == []


async def test_a_chair_appoints_a_contact_point_and_a_coordinator_from_the_page(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    async with client(sqlite_server) as http:
        chair = await http.register(display_name="Chair Person")
        expert = await http.register(display_name="Expert Person")
        lead = await http.register(display_name="Lead Person")
    for who, role in ((chair, "chair"), (expert, "member"), (lead, "member")):
        await set_role(sqlite_server, CAUCUS, who["id"], role)
    page, problems = await open_page(browser, sqlite_server)
    await _sign_in(page, sqlite_server, chair["email"], f"/groups/{CAUCUS}")
    for who, role in ((expert, "contact_point"), (lead, "coordinator")):
        row = page.locator(f"#member-{who['id']}")
        await row.get_by_label(f"Role of {who['display_name']}").select_option(role)
        await row.get_by_role("button", name="Change the role").click()
        await page.wait_for_url(f"**/groups/{CAUCUS}#member-{who['id']}")
    assert "Expert Person" in await page.inner_text("#role-contact_point + p + ul")
    assert "Lead Person" in await page.inner_text("#role-coordinator + ul")
    roles = await _roles(sqlite_server)
    assert roles[expert["id"]] == "contact_point" and roles[lead["id"]] == "coordinator"

    # A refusal is shown beside the form it answers, and changes nothing.
    row = page.locator(f"#member-{lead['id']}")
    chooser = row.get_by_label("Role of Lead Person")
    await chooser.evaluate("node => node.add(new Option('chair', 'chair', true, true))")
    await row.get_by_role("button", name="Change the role").click()
    refusal = page.locator(f"#member-{lead['id']}-error")
    assert await refusal.inner_text() == "Only the secretariat appoints or removes a chair."
    assert (await _roles(sqlite_server))[lead["id"]] == "coordinator"
    assert problems == []


async def test_the_front_page_shows_a_session_opened_through_the_api_as_live(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    chair = await person(sqlite_server, role="chair")
    await schedule_and_open(chair, title="Sitting on internet governance")
    page, problems = await open_page(browser, sqlite_server)
    await page.goto("/")
    live = page.locator("section[aria-labelledby=live-now]")
    await live.get_by_role("link", name="Sitting on internet governance").click()
    await page.wait_for_url("**/groups/wgig/room")
    assert "Sitting on internet governance" in await page.inner_text("main")
    assert problems == []


async def test_the_schedule_filters_without_javascript(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    chair = await person(sqlite_server, role="chair")
    coordinator = await person(
        sqlite_server, role="coordinator", group="gender-caucus", family="civil_society"
    )
    for who, room, title in (
        (chair, "wgig", "Governance sitting"),
        (coordinator, "gender-caucus", "Gender sitting"),
    ):
        answer = await api(
            who,
            "POST",
            f"/api/rooms/{room}/sessions",
            {
                "title": title,
                "agenda": "",
                "format": "briefing",
                "starts_at": "2099-02-01T09:00:00Z",
                "ends_at": "2099-02-01T10:00:00Z",
            },
        )
        assert answer.status_code == 201, answer.text
    page, problems = await open_page(
        browser, sqlite_server, java_script_enabled=False, timezone_id="Africa/Nairobi"
    )
    await page.goto("/")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Sessions").click()
    await page.wait_for_url("**/sessions")
    upcoming = page.locator("#upcoming-sessions")
    assert "Governance sitting" in await upcoming.inner_text()
    await page.select_option("#family", "civil_society")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url("**/sessions?*family=civil_society*")
    shown = await upcoming.inner_text()
    assert "Gender sitting" in shown and "Governance sitting" not in shown
    assert await page.input_value("#family") == "civil_society"
    await page.select_option("#action_line", "C6")
    await page.select_option("#family", "")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url("**/sessions?*action_line=C6*")
    shown = await upcoming.inner_text()
    assert "Governance sitting" in shown and "Gender sitting" not in shown
    assert problems == []


async def test_the_pages_fit_a_360_pixel_phone(sqlite_server: LiveServer, browser: Browser) -> None:
    async with client(sqlite_server) as http:
        chair = await http.register(display_name="Chair on a phone")
        member = await http.register(organization="A very long organization name " * 4)
    await set_role(sqlite_server, CAUCUS, chair["id"], "chair")
    await set_role(sqlite_server, CAUCUS, member["id"], "member")
    page, problems = await open_page(browser, sqlite_server, viewport={"width": 360, "height": 740})
    await _sign_in(page, sqlite_server, chair["email"], f"/groups/{CAUCUS}")
    for path in (f"/groups/{CAUCUS}", "/sessions", "/"):
        await page.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
    assert problems == []
