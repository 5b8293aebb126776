"""Threads in a real browser: a newcomer writes with the preview, which is the HTML the
post stores; a coordinator's position is co-signed and withdrawn from the page by
another caucus's chair, and open pages see it; a post arriving live looks as the
server renders it for that reader; the revisions page marks what changed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from tests.browser import open_page
from tests.discussions_support import open_thread, reply
from tests.factory import PASSWORD
from tests.people import set_role, signed_in
from tests.support import LiveServer, client

pytestmark = pytest.mark.browser


def _markup(html: str) -> str:
    return " ".join(re.sub(r">\s+<", "><", html).split())


async def _sign_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url("**/")


async def _registered(server: LiveServer, **fields: Any) -> dict[str, Any]:
    async with client(server) as http:
        return await http.register(**fields)


async def _as_the_browser_writes(page: Page, html: str) -> str:
    """`html` as this browser serializes it once parsed, to compare with innerHTML."""
    return str(
        await page.evaluate(
            "(html) => { const t = document.createElement('template'); t.innerHTML = html;"
            " return t.innerHTML; }",
            html,
        )
    )


async def _preview_then(page: Page, body: str) -> str:
    """Type `body`, ask for the preview, and return what it shows."""
    await page.fill("textarea[name=body]", body)
    url = page.url
    await page.click("button[name=preview]")
    region = page.locator("section.preview .body")
    await page.locator("section.preview:not([hidden])").wait_for()
    assert page.url == url  # fetched beside the box: no reload, the text stays
    assert await page.input_value("textarea[name=body]") == body
    return await region.inner_html()


async def test_a_newcomer_opens_a_thread_and_replies_with_the_preview(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    page, problems = await open_page(browser, sqlite_server)
    await page.goto("/register?next=/action-lines/C3")
    await page.fill("input[name=email]", "newcomer@example.org")
    await page.fill("input[name=password]", PASSWORD)
    await page.fill("input[name=display_name]", "Amina Newcomer")
    await page.select_option("select[name=family]", "civil_society")
    await page.fill("input[name=organization]", "Library Association")
    await page.select_option("select[name=country]", "KE")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url("**/action-lines/C3")

    await page.fill("input[name=title]", "Opening hours")
    body = "Libraries should open *every* day.\n\n- weekends\n- [hours](https://example.org/h)"
    shown = await _preview_then(page, body)
    assert "<em>every</em>" in shown
    await page.click("form[data-preview] button[type=submit]:not([name])")
    await page.wait_for_url("**/threads/*")
    thread_id = int(page.url.rsplit("/", 1)[1].split("#")[0])
    async with client(sqlite_server) as reader:
        thread = (await reader.get(f"/api/threads/{thread_id}")).json()
    assert shown == await _as_the_browser_writes(page, thread["posts"][0]["html"])

    reply_body = "And **Sundays**, with `code` & <tags>."
    shown = await _preview_then(page, reply_body)
    await page.click("form[data-preview] button[type=submit]:not([name])")
    await page.wait_for_url("**#post-*")
    post_id = int(page.url.rsplit("-", 1)[1])
    async with client(sqlite_server) as reader:
        stored = (await reader.get(f"/api/posts/{post_id}")).json()
    assert stored["body"] == reply_body
    assert shown == await _as_the_browser_writes(page, stored["html"])
    assert shown == await page.locator(f"#post-{post_id} .body").inner_html()

    # A refused preview is shown beside the box, the text kept.
    await page.fill("textarea[name=body]", "   ")
    await page.click("button[name=preview]")
    await page.locator("#body-error").wait_for()
    assert await page.get_attribute("textarea[name=body]", "aria-describedby") == "body-error"
    assert problems == [f"422 {sqlite_server.url}/api/preview"]


async def test_another_caucus_chair_cosigns_from_the_page_then_withdraws(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    coordinator = await _registered(sqlite_server, display_name="Gender Coordinator")
    chair = await _registered(sqlite_server, display_name="Youth Chair")
    await set_role(sqlite_server, "gender-caucus", coordinator["id"], "coordinator")
    await set_role(sqlite_server, "youth-caucus", chair["id"], "chair")

    writer, writer_problems = await open_page(browser, sqlite_server)
    await _sign_in(writer, coordinator["email"])
    await writer.goto("/action-lines/C4")
    await writer.fill("input[name=title]", "Capacity building must reach women")
    await writer.fill("textarea[name=body]", "Budget for *childcare*.")
    await writer.select_option("select[name=group]", "gender-caucus")
    await writer.click("form[data-preview] button[type=submit]:not([name])")
    await writer.wait_for_url("**/threads/*")
    thread_url = writer.url.split("#")[0]
    position = writer.locator("article.post.position")
    assert "Gender Caucus" in (await position.locator(".badge").text_content() or "")

    signer, signer_problems = await open_page(browser, sqlite_server)
    await _sign_in(signer, chair["email"])
    await signer.goto(thread_url)
    form = signer.locator("article.post.position form.cosign")
    await form.locator("select[name=group]").select_option("youth-caucus")
    await form.locator("button").click()
    await signer.wait_for_url("**#post-*")
    cosigners = signer.locator("article.post.position .cosigners")
    assert "Youth Caucus" in (await cosigners.text_content() or "")
    # The coordinator's open page is told, and shows it as its server would.
    await writer.locator("article.post.position .cosigners").wait_for()

    await signer.get_by_role("button", name="Withdraw the co-signature of Youth Caucus").click()
    await signer.wait_for_url("**#post-*")
    assert await signer.locator("article.post.position .cosigners").count() == 0
    assert await signer.locator("article.post.position form.cosign").count() == 1
    await writer.locator("article.post.position .cosigners").wait_for(state="detached")
    assert writer_problems == [] and signer_problems == []


async def test_live_posts_look_as_the_server_renders_them_for_each_reader(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    chair = await _registered(sqlite_server, display_name="Youth Chair")
    await set_role(sqlite_server, "youth-caucus", chair["id"], "chair")
    async with signed_in(sqlite_server) as coordinator:
        assert coordinator.user
        await set_role(sqlite_server, "gender-caucus", coordinator.user["id"], "coordinator")
        created = await open_thread(coordinator, code="C4", title="Curricula")
        thread_id = created["thread"]["id"]

        spectator, spectator_problems = await open_page(browser, sqlite_server)
        await spectator.goto(f"/threads/{thread_id}")
        member, member_problems = await open_page(browser, sqlite_server)
        await _sign_in(member, chair["email"])
        await member.goto(f"/threads/{thread_id}")
        for page in (spectator, member):
            await page.wait_for_selector("p.live", state="attached")

        live = await reply(
            coordinator, thread_id, "We *agree*.", created["post"]["id"], group="gender-caucus"
        )
        for page in (spectator, member):
            await page.locator(f"#post-{live['id']}").wait_for()
        # Signed out: no Reply, no form, as on the page the server renders.
        arrived = spectator.locator(f"#post-{live['id']}")
        assert await arrived.locator("footer.actions").count() == 0
        assert await spectator.locator("a", has_text="Reply").count() == 0
        assert "Sign in" in (await spectator.locator("#reply").text_content() or "")
        # The chair of another caucus: Reply, and the co-sign form of a position.
        mine = member.locator(f"#post-{live['id']}")
        assert await mine.locator("footer.actions a", has_text="Reply").count() == 1
        assert await mine.locator("form.cosign select[name=group]").input_value() == "youth-caucus"

        # Each is the server's rendering: reloaded, the page shows the same post (but
        # for the whitespace between tags, which the two templates lay out apart).
        for page in (spectator, member):
            inserted = await page.locator(f"#post-{live['id']}").inner_html()
            await page.reload()
            again = await page.locator(f"#post-{live['id']}").inner_html()
            assert _markup(again) == _markup(inserted)
    assert spectator_problems == [] and member_problems == []


async def test_the_revisions_page_marks_what_changed(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    async with signed_in(sqlite_server) as author:
        created = await open_thread(author, body="Libraries open early on Sundays")
        post_id = created["post"]["id"]
        await author.patch(f"/api/posts/{post_id}", json={"body": "Libraries open late on Sundays"})
    page, problems = await open_page(browser, sqlite_server, viewport={"width": 360, "height": 740})
    await page.goto(f"/posts/{post_id}/revisions")
    assert await page.locator(".diff del").text_content() == "Removed: early (end of removal)"
    assert await page.locator(".diff ins").text_content() == "Added: late (end of addition)"
    # The labels are for screen readers; the eye sees the words marked.
    label = page.locator(".diff ins .visually-hidden").first
    box = await label.bounding_box()
    assert box is not None and box["width"] <= 1
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    assert problems == []
