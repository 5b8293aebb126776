"""The account pages in a real browser: register, sign in, sign out, without JavaScript
errors and under the strict Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.browser import open_page
from tests.factory import PASSWORD
from tests.support import LiveServer

pytestmark = pytest.mark.browser


async def test_register_sign_out_and_sign_in_through_the_pages(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    page, problems = await open_page(browser, sqlite_server)
    await page.goto("/")
    assert "C1" in await page.inner_text("main")
    await page.click("text=Register")
    await page.fill("input[name=email]", "amina@example.org")
    await page.fill("input[name=password]", PASSWORD)
    await page.fill("input[name=display_name]", "Amina Diallo")
    await page.select_option("select[name=family]", "civil_society")
    await page.fill("input[name=organization]", "ENDA Tiers Monde")
    await page.select_option("select[name=country]", "SN")
    await page.click("button[type=submit]")
    await page.wait_for_url(sqlite_server.url + "/")
    assert "Amina Diallo" in await page.inner_text("header")

    await page.click("text=Sign out")
    await page.wait_for_url(sqlite_server.url + "/")
    assert "Sign in" in await page.inner_text("header")

    await page.goto("/login")
    await page.fill("input[name=email]", "amina@example.org")
    await page.fill("input[name=password]", "not the password")
    await page.click("button[type=submit]")
    assert "Wrong email or password" in await page.inner_text("[role=alert]")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(sqlite_server.url + "/")
    assert "Amina Diallo" in await page.inner_text("header")
    assert problems == []


async def test_a_refused_registration_keeps_what_was_typed(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    page, problems = await open_page(browser, sqlite_server)
    await page.goto("/register")
    await page.fill("input[name=email]", "weak@example.org")
    await page.fill("input[name=password]", "password123")
    await page.fill("input[name=display_name]", "Weak Password")
    await page.select_option("select[name=family]", "private_sector")
    await page.fill("input[name=organization]", "Somewhere")
    await page.select_option("select[name=country]", "BR")
    await page.click("button[type=submit]")
    assert "too common" in await page.inner_text("[role=alert]")
    assert await page.input_value("input[name=display_name]") == "Weak Password"
    assert await page.input_value("input[name=password]") == ""
    assert await page.input_value("select[name=country]") == "BR"
    assert problems == []
