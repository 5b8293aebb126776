"""In the browser: a French reader's live thread speaks French, dates are told in the
browser's time zone, and the page reads right to left with no CSS of its own."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.async_api import Browser

from tests.browser import open_page
from tests.discussions_support import open_thread, reply
from tests.page_walk import screenshot
from tests.people import signed_in
from tests.support import LiveServer

pytestmark = pytest.mark.browser


async def test_a_french_reader_in_bogota_reads_right_to_left(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    async with signed_in(sqlite_server) as author:
        created = await open_thread(
            author, title="Points d'accès publics", body="Les bibliothèques, d'abord."
        )
        thread_id = created["thread"]["id"]
        arabic = await reply(author, thread_id, "مكتبات عامة في كل مدينة", created["post"]["id"])
        page, problems = await open_page(
            browser, sqlite_server, locale="fr-FR", timezone_id="America/Bogota"
        )
        await page.goto(f"/threads/{thread_id}")
        await page.wait_for_selector("p.live", state="attached")
        assert await page.get_attribute("html", "lang") == "fr"

        # The server said UTC; the browser says Bogota (UTC-5 all year).
        first = page.locator(f"#post-{created['post']['id']} time[data-local]")
        instant = datetime.fromisoformat(str(await first.get_attribute("datetime")))
        local = f"{(instant.hour - 5) % 24:02d}:{instant.minute:02d}"
        shown = await first.text_content() or ""
        assert local in shown and "UTC" not in shown, shown
        zone = page.locator("form.language input[name=time_zone]")
        assert await zone.input_value() == "America/Bogota"

        # A post arriving live is the server's rendering, in French.
        live = await reply(author, thread_id, "Et les écoles.", arabic["id"])
        assert live["depth"] > created["post"]["depth"]
        article = page.locator(f"#post-{live['id']}")
        await article.wait_for()
        # Signed out, as the server renders it: no Reply, the sign-in invitation instead.
        assert await article.locator("footer.actions").count() == 0
        assert "Connectez-vous" in (await page.locator("#reply").text_content() or "")
        status = page.locator("section.posts p.live")
        assert (await status.text_content() or "").startswith("Nouveau message de ")

        root = page.locator(f"#post-{created['post']['id']}")
        author_box = await root.locator(".author").bounding_box()
        permalink_box = await root.locator(".permalink").bounding_box()
        assert author_box and permalink_box and permalink_box["x"] > author_box["x"]

        # Right to left, as an Arabic catalog would make it: the same stylesheet mirrors.
        await page.evaluate("document.documentElement.dir = 'rtl'")
        author_box = await root.locator(".author").bounding_box()
        permalink_box = await root.locator(".permalink").bounding_box()
        assert author_box and permalink_box and permalink_box["x"] < author_box["x"]
        root_box = await root.bounding_box()
        nested_box = await article.bounding_box()
        assert root_box and nested_box
        # A reply is indented from the start side: the right, right to left.
        assert nested_box["x"] + nested_box["width"] < root_box["x"] + root_box["width"] - 10
        await screenshot(page, "rtl", {"width": 1000, "height": 900})
        assert problems == []
