"""A government delegate reaches a contact point for C7, in real browsers on a real
server: they find the contact point in the action line's directory, send a request, the
contact point accepts it, the two exchange messages that arrive without a reload, and a
third person and the secretariat are refused the conversation."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import open_page
from tests.contacts_support import contact_point
from tests.factory import PASSWORD
from tests.people import person
from tests.support import LiveServer, make_secretariat

pytestmark = pytest.mark.browser
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


async def sign_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()


async def live(page: Page) -> None:
    """The page's event stream is open."""
    await page.wait_for_selector("[data-contact-events][data-live=open]", state="attached")


async def test_a_delegate_finds_a_c7_contact_point_and_reaches_them(
    browser: Browser, sqlite_server: LiveServer
) -> None:
    server = sqlite_server
    expert = await contact_point(
        server,
        name="Aida Opoku",
        expertise="Electronic health records in rural clinics",
        languages=("English", "Twi"),
    )
    delegate = await person(server, family="government", name="Delegate of Ghana")
    third = await person(server, family="government", name="Another Delegate")
    clerk = await person(server, family="government", name="Secretariat Clerk")
    await make_secretariat(server, clerk.id)

    asker, asker_problems = await open_page(browser, server)
    await sign_in(asker, delegate.user["email"])
    await asker.goto("/action-lines/C7")
    await asker.click("main >> a[href='/action-lines/C7/contacts']")
    await asker.wait_for_url("**/action-lines/C7/contacts")
    directory = await asker.inner_text("main")
    assert "Aida Opoku" in directory and "Electronic health records" in directory
    assert "WHO" in directory and "English, Twi" in directory
    assert not EMAIL.search(await asker.content())
    await asker.click("text=Aida Opoku")
    await asker.wait_for_url(f"**/contact-points/{expert.id}")
    await asker.fill("textarea[name=body]", "Could you brief our delegation on **e-health**?")
    await asker.click("text=Send the request")
    await asker.wait_for_url(re.compile(r"/contacts/\d+\?done=sent"))
    request_id = int(asker.url.split("/contacts/")[1].split("?")[0])
    assert "waiting for an answer" in await asker.inner_text(".request-state")
    await live(asker)

    answerer, answerer_problems = await open_page(browser, server)
    await sign_in(answerer, expert.user["email"])
    await answerer.click("header >> text=Contacts")
    await answerer.wait_for_url("**/contacts")
    received = answerer.locator("section", has=answerer.locator("#received-heading"))
    await received.locator("text=Delegate of Ghana").click()
    await answerer.wait_for_url(f"**/contacts/{request_id}")
    assert "e-health" in await answerer.inner_text("article.request strong")
    await answerer.click("button:text-is('Accept')")
    await answerer.wait_for_url("**?done=accepted")
    await live(answerer)

    # The delegate's open page hears of the answer, then writes.
    await expect(asker.locator(".live")).to_contain_text("accepted")
    await asker.reload()
    await live(asker)
    await asker.fill("textarea[name=body]", "Thank you. Which clinics use them?")
    await asker.click("#write button[type=submit]")
    await asker.wait_for_url(re.compile(r"\?done=sent#message-\d+"))
    # Without a reload, the contact point's page shows it.
    arrived = answerer.locator("article.message", has_text="Which clinics use them?")
    await expect(arrived).to_be_visible()
    await expect(answerer.locator(".live")).to_contain_text("New message from Delegate of Ghana")
    await answerer.fill("textarea[name=body]", "Those of the Ashanti region, since *2004*.")
    await answerer.click("#write button[type=submit]")
    reply = asker.locator("article.message", has_text="Those of the Ashanti region")
    await expect(reply).to_be_visible()
    assert await reply.locator("em").inner_text() == "2004"
    for page in (asker, answerer):
        assert not EMAIL.search(await page.content())

    for outsider in (third, clerk):
        page, problems = await open_page(browser, server)
        await sign_in(page, outsider.user["email"])
        answer = await page.goto(f"/contacts/{request_id}")
        assert answer is not None and answer.status == 403
        text = await page.inner_text("main")
        assert "Ashanti" not in text and "clinics" not in text
        await page.goto("/contacts")
        assert "Aida Opoku" not in await page.inner_text("main")
        assert problems == []
        await page.context.close()
    for page in (asker, answerer):
        await page.context.close()
    assert asker_problems == [] and answerer_problems == []
