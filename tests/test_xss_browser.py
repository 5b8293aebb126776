"""The XSS corpus in a real browser: a trap that any script run by user content would
spring stays unset, on the rendered pages and for posts that arrive live through
thread.js (RELIABILITY row 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from forum.settings import Settings
from tests.browser import open_page
from tests.people import signed_in
from tests.support import LiveServer, live_server, make_settings

pytestmark = pytest.mark.browser

VECTORS = [
    block.strip("\n")
    for block in (Path(__file__).parent / "data" / "xss_vectors.txt")
    .read_text(encoding="utf-8")
    .split("\n----\n")
]
# Installed before any script of the page: every way the corpus would show it ran.
TRAP = """
window.__pwned = false;
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = () => { window.__pwned = true; };
}
"""


async def sprung(page: Page) -> bool:
    return bool(await page.evaluate("window.__pwned"))


async def test_the_corpus_runs_no_script_in_the_browser(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    settings: Settings = make_settings(sqlite_url, tmp_path).with_(post_limit=10_000)
    async with live_server(settings) as server, signed_in(server) as author:
        created = await author.post(
            "/api/action-lines/C8/threads",
            json={"title": '"><svg onload=alert(1)>', "body": VECTORS[0]},
        )
        thread_id = created.json()["thread"]["id"]
        for vector in VECTORS[: len(VECTORS) // 2]:
            response = await author.post(f"/api/threads/{thread_id}/posts", json={"body": vector})
            assert response.status_code == 201, response.text

        page, problems = await open_page(browser, server)
        await page.add_init_script(TRAP)
        for url in (f"/threads/{thread_id}", "/action-lines/C8", "/search?q=alert"):
            await page.goto(url)
            await page.wait_for_load_state("networkidle")
            assert not await sprung(page), url

        # The other half arrives while the thread is open, through thread.js.
        await page.goto(f"/threads/{thread_id}")
        await page.wait_for_selector("p.live", state="attached")
        for vector in VECTORS[len(VECTORS) // 2 :]:
            response = await author.post(
                f"/api/threads/{thread_id}/posts", json={"body": f"live {vector}"}
            )
            assert response.status_code == 201
        # Polled from here: the page's CSP rightly forbids evaluating strings.
        posts = page.locator("article.post")
        for _ in range(150):
            if await posts.count() >= len(VECTORS) + 1:
                break
            await page.wait_for_timeout(100)
        assert await posts.count() >= len(VECTORS) + 1
        assert not await sprung(page)
        assert await page.locator("article.live-new").count() >= len(VECTORS) - len(VECTORS) // 2
        assert problems == []
        await page.context.close()


async def test_a_reply_appears_live_on_an_open_thread(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    async with signed_in(sqlite_server) as author:
        created = await author.post(
            "/api/action-lines/C3/threads", json={"title": "Libraries", "body": "Public access."}
        )
        thread_id = created.json()["thread"]["id"]
        page, problems = await open_page(browser, sqlite_server)
        await page.goto(f"/threads/{thread_id}")
        await page.wait_for_selector("p.live", state="attached")
        await author.post(
            f"/api/threads/{thread_id}/posts", json={"body": "Community **centres** too."}
        )
        reply = page.locator("article.live-new strong", has_text="centres")
        await reply.wait_for(timeout=10_000)
        assert problems == []
        await page.context.close()
