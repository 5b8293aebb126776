"""Playwright driving Debian's Chromium (`/usr/bin/chromium`); its own browser
download is not used."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    async_playwright,
)

from tests.factory import PASSWORD
from tests.people import Person
from tests.support import LiveServer

CHROMIUM = os.environ.get("FORUM_TEST_CHROMIUM", "/usr/bin/chromium")
# Chromium's background services would try hosts this machine cannot reach.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium is required in CI: {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_page(browser: Browser, server: LiveServer, **options: Any) -> tuple[Page, list[str]]:
    """A page of a fresh context (`options` for it: locale, timezone_id...), and the list
    of problems it meets: script errors, console errors and failed subresources (a CSP
    violation is a console error)."""
    context = await browser.new_context(base_url=server.url, **options)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    def on_console(message: ConsoleMessage) -> None:
        # A refused form answers 4xx on purpose; failed subresources are caught below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    return page, problems


async def sign_in_context(context: BrowserContext, server: LiveServer, who: Person) -> None:
    """`who` signed in on the context's cookie by the login API."""
    answer = await context.request.post(
        f"{server.url}/api/auth/login",
        data=json.dumps({"email": who.user["email"], "password": PASSWORD}),
        headers={"content-type": "application/json", "origin": server.url},
    )
    assert answer.ok, await answer.text()


async def signed_in(
    browser: Browser, server: LiveServer, who: Person, **options: Any
) -> tuple[Page, list[str]]:
    """`open_page`, with `who` signed in on the context's cookie by the login API."""
    page, problems = await open_page(browser, server, **options)
    await sign_in_context(page.context, server, who)
    return page, problems


async def live(page: Page) -> None:
    """The room page's connection says it is live."""
    await page.wait_for_selector('#conn[data-state="live"]', timeout=20_000)
