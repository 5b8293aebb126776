"""The profile and the secretariat's pages in a real browser: the secretariat makes a
group and appoints its chair, a person edits their profile (language and time zone
followed at once), changes their password, signs out everywhere (another browser is
signed out), and asks for a change of family that the secretariat approves."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page

from tests.browser import open_page
from tests.factory import PASSWORD
from tests.people import person
from tests.secretariat_support import create_secretariat
from tests.support import LiveServer

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a longer phrase of seven words"
# What sticks out of a phone's width, named in a failure.
WIDE = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 360)
  .slice(0, 5).map(e => `${e.tagName}.${e.className} ${e.getBoundingClientRect().width}`)"""


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()


async def test_the_secretariat_makes_a_group_and_appoints_its_chair(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    email = await create_secretariat(sqlite_server)
    chair = await person(sqlite_server, family="civil_society", name="Renata Aquino")
    page, problems = await open_page(browser, sqlite_server)
    await sign_in(page, email)
    await page.click("header a[href='/secretariat']")
    await page.click("main >> text=Groups, memberships and roles")
    await page.fill("input[name=name]", "Rural Connectivity Caucus")
    await page.fill("input[name=slug]", "rural-connectivity")
    await page.select_option("select[name=kind]", "caucus")
    await page.select_option("select[name=family]", "civil_society")
    await page.select_option("select[name=region]", "latin-america-caribbean")
    await page.check("input[name=action_lines][value=C2]")
    await page.click("text=Make the group")
    await page.wait_for_url("**/secretariat/groups/rural-connectivity?done=created")
    assert "The group is made, with its room." in await page.inner_text("[role=status]")

    await page.fill("input[name=email]", chair.user["email"])
    await page.select_option("#add-member ~ form select[name=role]", "chair")
    await page.click("#add-member ~ form button[type=submit]")
    await page.wait_for_url("**?done=member")
    row = page.locator("tr", has_text="Renata Aquino")
    assert await row.locator("select[name=role]").input_value() == "chair"

    await page.click("text=The group's page")
    main = await page.inner_text("main")
    assert "Rural Connectivity Caucus" in main and "Renata Aquino" in main
    assert problems == []


async def test_a_person_edits_their_profile_changes_password_and_signs_out_everywhere(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    someone = await person(sqlite_server, family="government", name="Ana Souza")
    email = someone.user["email"]
    page, problems = await open_page(browser, sqlite_server, timezone_id="America/Bogota")
    other, other_problems = await open_page(browser, sqlite_server)
    await sign_in(page, email)
    await page.click("header >> text=Ana Souza")
    await page.wait_for_url("**/profile")

    # A refusal keeps what was typed, beside its field.
    await page.fill("input[name=display_name]", "Ana\u00adSouza")
    await page.fill("input[name=organization]", "Anatel")
    await page.click("text=Save my details")
    assert await page.locator("#display_name-error").count() == 1
    assert await page.input_value("input[name=organization]") == "Anatel"

    await page.fill("input[name=display_name]", "Ana Souza Lima")
    await page.select_option("select[name=language]", "es")
    await page.select_option("select[name=time_zone]", "Asia/Tokyo")
    await page.click("text=Save my details")
    await page.wait_for_url("**/profile?done=details")
    assert await page.get_attribute("html", "lang") == "es"
    assert "Su perfil se ha guardado." in await page.inner_text("[role=status]")
    # Dates in the profile's zone (Tokyo, UTC+9), not the browser's (Bogota).
    since = page.locator("p.lead time")
    instant = datetime.fromisoformat(str(await since.get_attribute("datetime")))
    tokyo = instant.astimezone(UTC) + timedelta(hours=9)
    # Babel's Spanish time has no leading zero on the hour ("0:10"): match either form.
    shown = await since.text_content() or ""
    assert re.search(rf"\b0?{tokyo.hour}:{tokyo.minute:02d}\b", shown), shown
    assert "Ana Souza Lima" in await page.inner_text("header")

    # The password: the current one is required, the old one is refused afterwards.
    await page.fill("input[name=current_password]", "not my password")
    await page.fill("input[name=password]", NEW_PASSWORD)
    await page.click("text=Cambiar mi contraseña")
    assert "La contraseña actual es incorrecta." in await page.inner_text("#current_password-error")
    await page.fill("input[name=current_password]", PASSWORD)
    await page.fill("input[name=password]", NEW_PASSWORD)
    await page.click("text=Cambiar mi contraseña")
    await page.wait_for_url("**/profile?done=password")
    await sign_in(other, email)
    assert "/login" in other.url  # the old password
    await sign_in(other, email, NEW_PASSWORD)
    assert "Ana Souza Lima" in await other.inner_text("header")

    # Signing out everywhere signs the other browser out too.
    await page.click('form[action="/profile/sign-out-everywhere"] button')
    await page.wait_for_url("**/login?next=**")
    await other.reload()
    assert "Ana Souza Lima" not in await other.inner_text("header")
    assert await other.locator("header a[href^='/login']").count() == 1
    assert problems == [] and other_problems == []


async def test_a_family_change_waits_until_the_secretariat_approves_it(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    email = await create_secretariat(sqlite_server)
    someone = await person(sqlite_server, family="civil_society", name="Kofi Mensah")
    page, problems = await open_page(browser, sqlite_server)
    secretariat, secretariat_problems = await open_page(browser, sqlite_server)
    await sign_in(page, someone.user["email"])
    await page.goto("/profile")
    await page.select_option("select[name=family]", "private_sector")
    await page.click("text=Send the request")
    await page.wait_for_url("**/profile?done=family")
    assert "Pending" in await page.inner_text("#family-pending")
    assert "family: Civil society" in await page.inner_text("main")

    await sign_in(secretariat, email)
    await secretariat.goto("/secretariat")
    await secretariat.click("text=Changes of stakeholder family waiting: 1")
    item = secretariat.locator("li", has_text="Kofi Mensah")
    assert "from Civil society to Private sector" in await item.inner_text()
    await item.locator("button[value=approve]").click()
    await secretariat.wait_for_url("**?done=approved")
    assert "No request is waiting." in await secretariat.inner_text("main")

    await page.reload()
    assert "family: Private sector" in await page.inner_text("main")
    assert await page.locator("#family-pending").count() == 0
    assert problems == [] and secretariat_problems == []


async def test_the_profile_and_secretariat_pages_fit_a_phone(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    email = await create_secretariat(sqlite_server)
    page, problems = await open_page(browser, sqlite_server, viewport={"width": 360, "height": 740})
    await sign_in(page, email)
    for path in (
        "/profile",
        "/secretariat",
        "/secretariat/groups",
        "/secretariat/groups/cs-bureau",
        "/secretariat/action-lines",
        "/secretariat/action-lines/C1",
        "/secretariat/family-requests",
    ):
        await page.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        wide = await page.evaluate(WIDE)
        assert width <= 360, (path, width, wide)
    assert problems == []
