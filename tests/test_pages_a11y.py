"""Every page of the forum in a real browser, as a signed-out reader, a member, the chair
and the secretariat, in the light and the dark scheme: no serious or critical axe-core
violation, nothing wider than a 360-pixel phone, and a visible focus on every control
the keyboard reaches."""

from __future__ import annotations

import re
from typing import Any, Literal, cast

import pytest
from playwright.async_api import Browser, Page

from tests.page_walk import (
    DESKTOP,
    PHONE,
    World,
    axe_source,
    build_world,
    page_routes,
    reader_context,
    screenshot,
    settle,
    url_of,
)
from tests.support import LiveServer

pytestmark = pytest.mark.browser

# What axe-core reports as serious or critical, one line per rule, with its first nodes.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help} at ` + v.nodes.slice(0, 4)
      .map(n => n.target.join(' ') + ' ['
        + (n.failureSummary || '').split('\\n').slice(1).join(' ') + ']')
      .join('; '));
}"""

# What sticks out of the viewport, named in a failure.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .slice(0, 4).map(e => `${e.tagName.toLowerCase()}.${e.className}`);
  return [document.documentElement.scrollWidth, width, wide];
}"""

# How the focus tests name an element: a mark of its own (a live page may insert
# elements before it while the keyboard goes round), and what a person reads.
NAME = """e => {
  const id = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? `[name=${e.name}]` : '')
    + ' "' + (e.innerText || e.value || '').trim().slice(0, 30) + '"';
  if (!e.dataset.walkKey) {
    e.dataset.walkKey = String(document.querySelectorAll('[data-walk-key]').length);
  }
  return {key: e.dataset.walkKey, id};
}"""

# The element that has the focus, and whether a person can see that it has: an outline
# or a ring drawn around it.
FOCUSED = f"""() => {{
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  return {{...({NAME})(e), visible: outline || style.boxShadow !== 'none'}};
}}"""

# Every control the keyboard should reach: visible, enabled, not taken out of the order
# (a group of radio buttons is one stop, its checked one).
TABBABLE = f"""() => {{
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[tabindex]';
  const seen = new Set();
  return [...document.querySelectorAll(selector)].filter(e => {{
    if (e.disabled || e.tabIndex < 0 || e.closest('[inert], [hidden]')) return false;
    if (!e.getClientRects().length || getComputedStyle(e).visibility === 'hidden') return false;
    if (e.type === 'radio') {{
      const group = [...document.getElementsByName(e.name)];
      const stop = group.find(r => r.checked) || group[0];
      if (stop !== e || seen.has(e.name)) return false;
      seen.add(e.name);
    }}
    return true;
  }}).map({NAME});
}}"""

READERS = ("signed out", "member", "chair", "secretariat")
# The pictures of the README, each as the reader it is taken for.
SHOTS = {
    "/": ("home", "member"),
    "/action-lines/{code}": ("board", "member"),
    "/threads/{thread_id:id}": ("thread", "member"),
    "/groups/{slug}": ("group", "member"),
    "/sessions": ("schedule", "member"),
    "/profile": ("profile", "member"),
    "/register": ("register", "signed out"),
    "/meetings/{meeting_id:id}": ("meeting", "member"),
    "/action-lines/{code}/contacts": ("contact-points", "member"),
    "/contacts/{contact_request_id:id}": ("conversation", "member"),
    "/groups/{slug}/equity": ("equity", "chair"),
    "/groups/{slug}/observers": ("observers", "chair"),
    "/sessions/{session_id:id}/transcript": ("transcript", "chair"),
}
CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


async def axe_violations(page: Page, source: str) -> list[str]:
    # Evaluated through the DevTools protocol, which the page's CSP does not govern; a
    # <script> tag (add_script_tag) would be an inline script, which the CSP refuses.
    await page.evaluate(source + "\n;0")
    found: list[str] = await page.evaluate(AXE_RUN)
    return found


async def overflow(page: Page) -> str | None:
    await page.set_viewport_size(PHONE)
    try:
        scroll, width, wide = await page.evaluate(OVERFLOW)
    finally:
        await page.set_viewport_size(DESKTOP)
    return None if scroll <= width else f"{scroll} px wide at {width} px: {wide}"


async def tab_through(page: Page) -> list[str]:
    """Tab from the top of the page until the focus comes back round; what took the
    focus without showing it, and what the keyboard never reached."""
    await page.evaluate("document.activeElement && document.activeElement.blur()")
    await page.evaluate("window.scrollTo(0, 0)")
    expected = {item["key"]: item["id"] for item in await page.evaluate(TABBABLE)}
    reached: dict[str, dict[str, Any]] = {}
    first = None
    # A date field takes several presses (day, month, year...) on one element.
    for _ in range(6 * len(expected) + 10):
        await page.keyboard.press("Tab")
        focused: dict[str, Any] | None = await page.evaluate(FOCUSED)
        if focused is None:
            continue
        if first is None:
            first = focused["key"]
        elif focused["key"] == first:
            break
        # Each stop must show it: a date field's parts and its calendar button too.
        shown = focused["visible"] and reached.get(focused["key"], focused)["visible"]
        reached[focused["key"]] = {**focused, "visible": shown}
    problems = [f"no visible focus on {f['id']}" for f in reached.values() if not f["visible"]]
    missed = [name for key, name in expected.items() if key not in reached]
    if missed:
        problems.append(f"the keyboard never reached {missed}")
    return problems


async def check_page(page: Page, source: str, where: str) -> list[str]:
    problems: list[str] = []
    schemes: tuple[Literal["light", "dark"], ...] = ("light", "dark")
    for scheme in schemes:
        await page.emulate_media(color_scheme=scheme)
        problems += [f"{where} {scheme}: {v}" for v in await axe_violations(page, source)]
    await page.emulate_media(color_scheme="light")
    too_wide = await overflow(page)
    if too_wide:
        problems.append(f"{where}: at 360 px the page is {too_wide}")
    problems += [f"{where}: {p}" for p in await tab_through(page)]
    return problems


@pytest.mark.timeout(600)
async def test_every_page_passes_axe_fits_a_phone_and_shows_its_focus(
    sqlite_server: LiveServer, browser: Browser
) -> None:
    source = axe_source()
    world: World = await build_world(sqlite_server)
    who = {
        "signed out": None,
        "member": world.member,
        "chair": world.chair,
        "secretariat": world.secretariat,
    }
    pages: dict[str, Page] = {}
    for name in READERS:
        context = await reader_context(browser, sqlite_server, who[name])
        pages[name] = await context.new_page()

    problems: list[str] = []
    walked: list[str] = []
    for path in page_routes():
        url = url_of(path, world)
        answers: dict[str, str] = {}
        seen: set[str] = set()
        for name in READERS:
            page = pages[name]
            response = await page.goto(url)
            assert response is not None
            kind = response.headers.get("content-type", "")
            answers[name] = f"{response.status} {kind.split(';')[0]}"
            if response.status != 200 or not kind.startswith("text/html"):
                continue
            if not (await response.text()).lstrip().lower().startswith("<!doctype html"):
                # A fragment a script inserts into a page (a post as its reader sees it):
                # checked there, as part of the page that shows it.
                continue
            await settle(page)
            shot = SHOTS.get(path)
            if shot and shot[1] == name:
                await screenshot(page, f"{shot[0]}-desktop", DESKTOP)
                await screenshot(page, f"{shot[0]}-phone", PHONE)
                await page.set_viewport_size(DESKTOP)
            # A page that reads the same to two readers is checked once.
            body = CSRF.sub("", await page.locator("main").inner_html())
            if body in seen:
                continue
            seen.add(body)
            problems += await check_page(page, source, f"{url} as {name}")
        if not any(answer.startswith("200 ") for answer in answers.values()):
            problems.append(
                f"no reader got the page {path} at {url} ({answers}): give it its data in "
                f"tests/page_walk.py (PARAMS, QUERIES, build_world)"
            )
        elif seen:
            walked.append(path)
    for page in pages.values():
        await page.context.close()
    assert not problems, "\n".join(problems)
    # The walk reached the pages it is for (a broken route list would walk nothing).
    assert {"/", "/groups/{slug}/room", "/threads/{thread_id:id}", "/register"} <= set(walked)


def test_a_page_route_the_walk_cannot_fill_fails_with_its_name() -> None:
    paths = page_routes()
    assert "/groups/{slug}/room" in paths and "/register" in paths
    assert not [p for p in paths if p.startswith("/api/") or p.startswith("/static")]
    with pytest.raises(pytest.fail.Exception, match=r"/speakers/\{speaker\}.*PARAMS"):
        url_of("/speakers/{speaker}", cast(World, None))
