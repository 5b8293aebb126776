"""What a newcomer sees of the layout, in a real browser: the skip link, and pages that
fit a 360-pixel phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from tests.browser import open_page
from tests.support import LiveServer

pytestmark = pytest.mark.browser


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
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
