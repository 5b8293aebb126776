"""Hostile Markdown never becomes script: the XSS corpus posted over HTTP, then read
back from the thread page, the board, a permalink, the revision history, the feed,
search excerpts and the live event stream."""

from __future__ import annotations

import asyncio
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from forum.settings import Settings
from tests.people import signed_in
from tests.support import LiveServer, client, make_settings

VECTORS = [
    block.strip("\n")
    for block in (Path(__file__).parent / "data" / "xss_vectors.txt")
    .read_text(encoding="utf-8")
    .split("\n----\n")
]
# Our scripts, under their plain or content-hashed names (forum/web/assets.py).
OUR_SCRIPT = re.compile(r"/static/(?:thread|preview|locale)(?:\.[0-9a-f]{12})?\.js")
# Every page's interface text for its scripts: data, never run (docs/i18n.md).
CATALOG_TAG = '<script type="application/json" id="forum-i18n">'
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "background", "poster"}
UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path).with_(post_limit=10_000)


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        catalog = values == {"type": "application/json", "id": "forum-i18n"}
        ours = OUR_SCRIPT.fullmatch(values.get("src") or "") is not None
        if tag == "script" and not ours and not catalog:
            self.problems.append(f"script tag {attrs}")
        if tag in {"iframe", "object", "embed", "svg", "math", "img", "style", "base"}:
            self.problems.append(f"<{tag}> {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r} on <{tag}>")
            if name in URL_ATTRS and value is not None:
                seen = _INVISIBLE.sub("", value).lower()
                if seen.startswith(UNSAFE_SCHEMES):
                    self.problems.append(f"unsafe URL {name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def assert_safe(html: str, where: str, *, page: bool = False) -> None:
    audit = _Audit()
    audit.feed(html)
    audit.close()
    assert audit.problems == [], (where, audit.problems[:5])
    scripts = html.lower().count("<script")
    ours = len(re.findall(f'src="{OUR_SCRIPT.pattern}"', html)) + html.count(CATALOG_TAG)
    assert scripts == (ours if page else 0), where


async def test_the_xss_corpus_never_becomes_script(server: LiveServer) -> None:
    async with signed_in(server) as author, client(server) as reader:
        created = await author.post(
            "/api/action-lines/C5/threads",
            json={
                "title": '<script>alert(1)</script>"><img src=x onerror=alert(1)>',
                "body": VECTORS[0],
            },
        )
        assert created.status_code == 201, created.text
        thread_id = created.json()["thread"]["id"]
        seq = (await reader.get(f"/api/threads/{thread_id}")).json()["seq"]

        live: list[str] = []
        async with reader.stream("GET", f"/api/threads/{thread_id}/events?after={seq}") as stream:
            for vector in VECTORS:
                response = await author.post(
                    f"/api/threads/{thread_id}/posts", json={"body": f"xsscorpus {vector}"}
                )
                assert response.status_code == 201, (vector, response.text)
            async with asyncio.timeout(10):
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        live.append(json.loads(line[6:])["post"]["html"])
                        if len(live) == len(VECTORS):
                            break
        for html in live:
            assert_safe(html, "live event")

        last = (await reader.get(f"/api/threads/{thread_id}?limit=1")).json()["posts"][0]
        edit = await author.patch(f"/api/posts/{last['id']}", json={"body": VECTORS[-1] + "!"})
        assert edit.status_code == 200

        pages = {
            "thread": f"/threads/{thread_id}",
            "board": "/action-lines/C5",
            "permalink": f"/posts/{last['id']}",
            "revisions": f"/posts/{last['id']}/revisions",
            "positions": "/action-lines/C5/positions",
            "search page": "/search?q=xsscorpus&limit=50",
        }
        for name, url in pages.items():
            response = await reader.get(url)
            assert response.status_code == 200, name
            assert_safe(response.text, name, page=True)

        api = (await reader.get(f"/api/threads/{thread_id}?limit=500")).json()
        assert len(api["posts"]) == len(VECTORS) + 1
        for post in api["posts"]:
            assert_safe(post["html"], f"API post {post['number']}")

        raw = (await reader.get("/action-lines/C5/feed.atom")).content
        assert b"<script" not in raw.lower()
        feed = feedparser.parse(raw)
        assert feed.bozo == 0 and feed.entries
        for entry in feed.entries:
            assert_safe(entry.content[0].value, "feed entry")
            # Titles are Atom text constructs: readers show them as text, never markup.
            assert entry.title_detail.type == "text/plain"

        snippets = 0
        for offset in range(0, len(VECTORS) + 50, 50):
            result = await reader.get(
                "/api/search", params={"q": "xsscorpus", "limit": 50, "offset": offset}
            )
            for hit in result.json()["hits"]:
                snippets += 1
                assert_safe(hit["snippet_html"], "search snippet")
                assert re.sub(r"</?mark>", "", hit["snippet_html"]).count("<") == 0
        assert snippets == len(VECTORS)
