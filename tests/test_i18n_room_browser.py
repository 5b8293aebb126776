"""The live room page in French and in Spanish, in a real browser: the chair, a
participant who is given the floor, an observer and a signed-out spectator read no
English interface text, neither in what the server rendered nor in what room.js writes
as the session goes on."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from playwright.async_api import Browser, Page

from forum.i18n.catalogs import po_path
from tests.factory import GROUP
from tests.page_walk import reader_context, settle
from tests.people import api, person
from tests.support import LiveServer

pytestmark = pytest.mark.browser
ROOM = f"/groups/{GROUP}/room"
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")

# What a reader is shown in the interface's words: visible text (each text node, and
# each element's whole text, where a sentence holds a name), and the labels a screen
# reader reads. User content (dir="auto", <bdi>) and the switcher's language names
# (each in its own lang) are not interface text.
VISIBLE = """() => {
  const skip = 'script, style, template, [hidden], [dir=auto], bdi, [lang]:not(html)';
  const shown = e => e.getClientRects().length > 0;
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (!parent || parent.closest(skip) || !shown(parent)) continue;
    texts.push(walker.currentNode.textContent);
  }
  const blocks = 'p, li, button, label, legend, h1, h2, h3, a, span, strong, th, td, '
    + 'summary, option, dt, dd';
  for (const e of document.querySelectorAll(blocks)) {
    const other = e.closest('script, style, template, [hidden], [lang]:not(html)');
    if (!other && shown(e)) texts.push(e.innerText);
  }
  for (const e of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
    for (const name of ['aria-label', 'title', 'placeholder']) {
      texts.push(e.getAttribute(name) || '');
    }
  }
  // Only ASCII white space is folded: a French no-break space is part of the words.
  return texts.map(t => t.replace(/[ \\t\\n\\r]+/g, ' ').trim()).filter(Boolean);
}"""


def english_interface(language: str) -> list[re.Pattern[str]]:
    """The English catalog's strings that `language` says otherwise, each as a pattern
    of the whole text it would be shown as (a placeholder matches any value)."""
    with po_path("en").open("rb") as handle:
        english = read_po(handle, locale="en")
    with po_path(language).open("rb") as handle:
        other = read_po(handle, locale=language)

    def _strings(value: object) -> list[str]:
        found = value if isinstance(value, tuple | list) else [value]
        return [text for text in found if isinstance(text, str)]

    patterns: list[re.Pattern[str]] = []
    for message in english:
        if not message.id:
            continue
        translated = other.get(message.id)
        ours = _strings(message.string)
        theirs = _strings(translated.string) if translated is not None else []
        for text in ours:
            if not text or text in theirs:
                continue
            plain = re.sub(r"[ \t\n\r]+", " ", re.sub(r"<[^>]+>", "", text)).strip()
            pieces = _PLACEHOLDER.split(plain)
            if sum(len(re.sub(r"\W", "", p)) for p in pieces) < 3:
                continue  # nothing but a value and a sign, such as "{n} s"
            patterns.append(re.compile(".+?".join(re.escape(p) for p in pieces)))
    return patterns


def english_in(texts: list[str], patterns: list[re.Pattern[str]]) -> list[str]:
    return sorted({t for t in texts for p in patterns if p.fullmatch(t)})


async def no_english(pages: dict[str, Page], english: list[re.Pattern[str]], when: str) -> None:
    for name, page in pages.items():
        texts = await page.evaluate(VISIBLE)
        assert english_in(texts, english) == [], f"{name}'s page, {when}"


async def room_page(
    browser: Browser, server: LiveServer, language: str, who: object, seat: str | None
) -> Page:
    context = await reader_context(browser, server, who, locale=language)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(ROOM + (f"?seat={seat}" if seat else ""))
    await settle(page)
    assert await page.get_attribute("html", "lang") == language
    return page


@pytest.mark.timeout(180)
async def test_the_room_in_french_and_spanish_has_no_english_left(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    server = sqlite_server
    chair = await person(server, role="chair", name="Présidence Kummer")
    member = await person(server, family="private_sector", role="member", name="Biz Kim")
    observer = await person(server, family="civil_society", name="Rosa Ndiaye")
    scheduled = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {
            "title": "Financement / Financiación",
            "agenda": "1. Ouverture — Apertura",
            "format": "statements",
            "starts_at": "2005-11-16T09:00:00+01:00",
            "ends_at": "2005-11-16T12:00:00+01:00",
        },
    )
    assert scheduled.status_code == 201, scheduled.text
    opened = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{scheduled.json()['id']}/open")
    assert opened.status_code == 200, opened.text

    for language, said in (("fr", "Une déclaration."), ("es", "Una declaración.")):
        english = english_interface(language)
        c = await room_page(browser, server, language, chair, "participant")
        m = await room_page(browser, server, language, member, "remote")
        o = await room_page(browser, server, language, observer, "observer")
        s = await room_page(browser, server, language, None, None)
        pages = {"chair": c, "participant": m, "observer": o, "spectator": s}
        await no_english(pages, english, f"{language}, on arrival")
        # What room.js writes as things happen: a hand up, the floor given, a statement.
        await m.locator("#hand").click()
        await m.locator('#hand[data-raised="1"]').wait_for()
        await c.locator("#queue li").first.wait_for()
        await no_english(pages, english, f"{language}, with a hand up")
        await c.locator('[data-chair="next"]').click()
        await m.locator("#floor-now .countdown").wait_for()
        await m.fill("#speak-body", said)
        await m.press("#speak-body", "Enter")
        for page in pages.values():
            await page.locator("#stream li.said:not(.pending) .body", has_text=said).wait_for()
        await m.locator("#hand").wait_for()
        await no_english(pages, english, f"{language}, after a statement")
        await c.locator('[data-chair="take"]').click()
        await m.locator("#floor-now:not(:has(.countdown))").wait_for()
        for page in pages.values():
            await page.context.close()
