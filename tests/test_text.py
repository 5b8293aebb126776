from __future__ import annotations

import asyncio
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from forum.domain.textcheck import MAX_BODY_BYTES, clean_body
from forum.text import (
    RENDER_INLINE_CHARS,
    plain_text,
    render_body,
    render_markdown,
    render_markdown_async,
)
from tests.timing import best_of

REL = "nofollow ugc noopener"

VECTORS = [
    block.strip("\n")
    for block in (Path(__file__).parent / "data" / "xss_vectors.txt")
    .read_text(encoding="utf-8")
    .split("\n----\n")
]

# Vectors a text file does not hold well: NUL and other raw control characters.
CONTROL_VECTORS = [
    "[x](java\x00script:alert(1))",
    "<scr\x00ipt>alert(1)</script>",
    "[x](\x01javascript:alert(1))",
    "[x](<java\x0bscript:alert(1)>)",
    "[x](java\x1bscript:alert(1))",
    "[x](javascript\x7f:alert(1))",
    "[x](\x85javascript:alert(1))",
    "<java\x0cscript:alert(1)>",
]

# Each vector is also tried inside the block structures that have their own rules.
CONTEXTS = [
    "{}",
    "- {}",
    "> {}",
    "| a |\n|---|\n| {} |",
    "1. **{}**",
]

ALLOWED_TAGS = {
    "p", "a", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote",
    "h3", "h4", "h5", "h6", "hr", "br", "table", "thead", "tbody", "tr", "th", "td",
    "del", "s",
}  # fmt: skip
ALLOWED_ATTRS = {"href", "rel", "title", "dir", "start", "align", "class"}
SAFE_SCHEMES = {"http", "https", "mailto"}
FORBIDDEN_MARKUP = [
    "<script", "<iframe", "<svg", "<math", "<style", "<object", "<embed", "<form", "<img",
]  # fmt: skip
DANGEROUS_PREFIXES = ("javascript:", "vbscript:", "data:")
BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def _squash(value: str) -> str:
    """A URL as a lenient browser reads its scheme: decoded, no blanks, lowercase."""
    for _ in range(4):
        value = unquote(value)
    return re.sub(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]", "", value)


def _href_is_safe(href: str) -> bool:
    squashed = _squash(href).lower()
    scheme = re.match(r"([^/?#]*?):", squashed)
    return scheme is None or scheme.group(1) in SAFE_SCHEMES


def assert_safe(html: str) -> None:
    lowered = html.lower()
    for markup in FORBIDDEN_MARKUP:
        assert markup not in lowered, markup
    for tag in re.findall(r"<[^>]*>", html):
        # Attribute values are always double-quoted with `"` escaped inside, so what is
        # left once they are removed is tag and attribute names only.
        outside_values = re.sub(r'"[^"]*"', '""', tag)
        assert not re.search(r"\son\w+\s*=", outside_values, re.IGNORECASE), tag
    for bidi in BIDI_CONTROLS:
        assert bidi not in html
    for tag, attrs in _tags(html):
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert name in ALLOWED_ATTRS, (tag, name)
            assert value is not None
            assert not _squash(value).lower().startswith(DANGEROUS_PREFIXES), (tag, name)
            if name == "href":
                assert tag == "a"
                assert _href_is_safe(value), value
            elif name == "rel":
                assert value == REL
            elif name == "dir":
                assert value == "auto"
            elif name == "start":
                assert value.isdigit()
            elif name == "align":
                assert tag in ("th", "td")
                assert value in ("left", "center", "right")
            elif name == "class":
                assert tag == "code"
                assert re.fullmatch(r"language-[A-Za-z0-9_+#.-]+", value), value
        if tag == "a":
            assert dict(attrs).get("rel") == REL


def test_corpus_is_large_enough() -> None:
    assert len(VECTORS) >= 60
    assert all(VECTORS)


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("vector", VECTORS + CONTROL_VECTORS)
def test_xss_vector_renders_safely(vector: str, context: str) -> None:
    assert_safe(render_markdown(context.format(vector)))


def test_linkify_makes_links_with_rel() -> None:
    html = render_markdown("see https://example.org and www.example.com/page")
    assert html == (
        '<p dir="auto">see <a href="https://example.org" rel="nofollow ugc noopener">'
        "https://example.org</a> and "
        '<a href="http://www.example.com/page" rel="nofollow ugc noopener">'
        "www.example.com/page</a></p>\n"
    )


@pytest.mark.parametrize(
    ("source", "href"),
    [
        ("[a](https://example.org/x?q=1#f)", "https://example.org/x?q=1#f"),
        ("[a](HTTP://EXAMPLE.ORG)", "HTTP://EXAMPLE.ORG"),
        ("[a](mailto:chair@example.org)", "mailto:chair@example.org"),
        ("[a](/rooms/1)", "/rooms/1"),
        ("[a](../up)", "../up"),
        ("[a](#agenda)", "#agenda"),
        ("[a](?page=2)", "?page=2"),
        ("[a](//example.org/x)", "//example.org/x"),
        ("[a](notes/a:b)", "notes/a:b"),
        ("<https://example.org>", "https://example.org"),
        ("<chair@example.org>", "mailto:chair@example.org"),
        ("[a][r]\n\n[r]: https://example.org", "https://example.org"),
    ],
)
def test_allowed_links(source: str, href: str) -> None:
    tags = [attrs for tag, attrs in _tags(render_markdown(source)) if tag == "a"]
    assert tags == [[("href", href), ("rel", REL)]]


@pytest.mark.parametrize(
    "source",
    [
        "<ms-msdt:/id PCWDiagnostic>",
        "[help](ms-msdt:/id)",
        "<intent://example.org#Intent;end>",
        "[app](intent://example.org#Intent;end)",
        "[a](tel:+123)",
        "[a](ftp://example.org)",
        "[a](file:///etc/passwd)",
        "[a](data:image/png;base64,AAAA)",
        "<skype:someone?call>",
        "[a](a:b)",
        "[a](%2525252525252541)",
    ],
)
def test_other_schemes_render_as_text(source: str) -> None:
    html = render_markdown(source)
    assert "<a " not in html
    assert html.startswith('<p dir="auto">')


def test_image_becomes_link_to_source() -> None:
    html = render_markdown('![the chart](https://example.org/c.png "Q3")')
    assert html == (
        '<p dir="auto"><a href="https://example.org/c.png" rel="nofollow ugc noopener"'
        ' title="Q3">the chart</a></p>\n'
    )


def test_image_without_alt_shows_its_source() -> None:
    html = render_markdown("![](https://example.org/c.png)")
    assert '<a href="https://example.org/c.png" rel="nofollow ugc noopener">' in html
    assert ">https://example.org/c.png</a>" in html


def test_image_inside_link_is_its_alt_text() -> None:
    html = render_markdown("[![logo](https://example.org/l.png)](https://example.org)")
    assert html == (
        '<p dir="auto"><a href="https://example.org" rel="nofollow ugc noopener">logo</a></p>\n'
    )


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("*em* **strong** `code`", "<p dir=\"auto\"><em>em</em> <strong>strong</strong>"
         " <code>code</code></p>\n"),
        ("~~gone~~", '<p dir="auto"><s>gone</s></p>\n'),
        ("- one\n- two", '<ul>\n<li dir="auto">one</li>\n<li dir="auto">two</li>\n</ul>\n'),
        ("3. three\n4. four",
         '<ol start="3">\n<li dir="auto">three</li>\n<li dir="auto">four</li>\n</ol>\n'),
        ("> quoted", '<blockquote dir="auto">\n<p dir="auto">quoted</p>\n</blockquote>\n'),
        ("```python\nx = 1\n```", '<pre><code class="language-python">x = 1\n</code></pre>\n'),
        ("```\nx < 1\n```", "<pre><code>x &lt; 1\n</code></pre>\n"),
        ("    indented", "<pre><code>indented\n</code></pre>\n"),
        ("a\\\nb", '<p dir="auto">a<br>\nb</p>\n'),
        ("---", "<hr>\n"),
        ("<b>raw</b>", '<p dir="auto">&lt;b&gt;raw&lt;/b&gt;</p>\n'),
        ("5 < 6 & 7 > 2", '<p dir="auto">5 &lt; 6 &amp; 7 &gt; 2</p>\n'),
        ('"quotes" -- ...', '<p dir="auto">&quot;quotes&quot; -- ...</p>\n'),
        ("مرحبا بالجميع", '<p dir="auto">مرحبا بالجميع</p>\n'),
        ("a | b\n:-|-:\nx | y", (
            "<table>\n<thead>\n<tr>\n"
            '<th dir="auto" align="left">a</th>\n<th dir="auto" align="right">b</th>\n'
            "</tr>\n</thead>\n<tbody>\n<tr>\n"
            '<td dir="auto" align="left">x</td>\n<td dir="auto" align="right">y</td>\n'
            "</tr>\n</tbody>\n</table>\n"
        )),
    ],
)  # fmt: skip
def test_plain_markdown(source: str, html: str) -> None:
    assert render_markdown(source) == html


@pytest.mark.parametrize(
    ("source", "tags"),
    [
        ("# a\n## b\n### c\n#### d\n##### e\n###### f", ["h3", "h4", "h5", "h6", "h6", "h6"]),
        ("## b\n### c", ["h3", "h4"]),
        ("### c\n# a", ["h5", "h3"]),
        ("a\n===\n\nb\n---", ["h3", "h4"]),
        ("> # quoted", ["blockquote", "h3"]),
    ],
)
def test_headings_shift_so_the_highest_is_h3(source: str, tags: list[str]) -> None:
    assert [tag for tag, _ in _tags(render_markdown(source)) if tag != "p"] == tags


def test_headings_and_blocks_carry_dir_auto() -> None:
    for tag, attrs in _tags(render_markdown("# שלום\n\n- עברית\n\n> عربي\n\npara")):
        if tag in ("h3", "li", "blockquote", "p"):
            assert ("dir", "auto") in attrs


@pytest.mark.parametrize("char", BIDI_CONTROLS)
def test_bidi_controls_are_stripped_from_bodies(char: str) -> None:
    html = render_markdown(f"abc{char}def `x{char}y`\n\n```\n{char}z\n```")
    assert char not in html
    assert "abcdef" in html
    assert "<code>xy</code>" in html


def test_bidi_marks_are_kept_in_bodies() -> None:
    html = render_markdown("\u05e9\u200f \u200e x \u061c")
    assert "\u200f" in html
    assert "\u200e" in html
    assert "\u061c" in html


def test_fence_language_cannot_inject_attributes() -> None:
    html = render_markdown('```py" onclick="x\ncode\n```')
    assert html == "<pre><code>code\n</code></pre>\n"


async def test_render_markdown_async_matches() -> None:
    source = "# t\n\nhttps://example.org *x*"
    assert await render_markdown_async(source) == render_markdown(source)
    results = await asyncio.gather(
        *(render_markdown_async(f"{i} www.example.org") for i in range(8))
    )
    assert results == [render_markdown(f"{i} www.example.org") for i in range(8)]


async def test_a_body_renders_alike_on_the_loop_and_off_it() -> None:
    short = "A *short* reply, www.example.org"
    long = "A paragraph with *emphasis* and www.example.org.\n\n" * 400
    assert len(short) <= RENDER_INLINE_CHARS < len(long.strip()) < MAX_BODY_BYTES
    for body in (short, long):
        rendered = await render_body(body)
        source = clean_body(body)
        assert rendered.body == source
        assert rendered.html == render_markdown(source)
        assert rendered.plain == plain_text(rendered.html)


async def test_a_long_body_renders_off_the_event_loop() -> None:
    """The loop goes on serving while a long body renders: a task it runs meanwhile
    gets turns before the rendering is done."""
    turns, rendering = 0, True

    async def other_work() -> None:
        nonlocal turns
        while rendering:
            turns += 1
            await asyncio.sleep(0)

    worker = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    before = turns
    await render_body("Words *and* www.example.org links.\n\n" * 1500)
    during = turns - before
    rendering = False
    await worker
    assert during > 1


# ---- bounded rendering


def _fill(unit: str) -> str:
    """`unit` repeated to exactly MAX_BODY_BYTES bytes of UTF-8."""
    body = unit * (MAX_BODY_BYTES // len(unit.encode()))
    return body + "a" * (MAX_BODY_BYTES - len(body.encode()))


PATHOLOGICAL = {
    "nested_quotes": _fill(">"),
    "nested_quotes_spaced": _fill("> "),
    "open_brackets": _fill("["),
    "balanced_brackets": "[" * (MAX_BODY_BYTES // 2) + "]" * (MAX_BODY_BYTES // 2),
    "open_images": _fill("!["),
    "open_links": _fill("[a]("),
    "mixed_emphasis": _fill("*a **a "),
    "underscore_emphasis": _fill("_a __a "),
    "emphasis_runs": _fill("*a"),
    "delimiter_pairs": "**" * (MAX_BODY_BYTES // 4) + "**" * (MAX_BODY_BYTES // 4),
    "strikethrough": _fill("~~a "),
    "backtick_runs": _fill("".join("`" * n + "a" for n in range(1, 200))),
    "long_backticks": _fill("`" * 100 + "a "),
    "nested_lists": _fill("- "),
    "indented_lists": _fill("".join("  " * n + "- a\n" for n in range(200))),
    "table_cells": _fill("|x|y|\n|-|-|\n" + "|x|y|\n" * 5000),
    "autolink_opens": _fill("<"),
    "entities": _fill("&#"),
    "linkify_schemes": _fill("http://"),
    "linkify_fuzzy": _fill("www.a."),
    "emails": _fill("a@"),
    "setext": _fill("a\n=\n"),
    "references": _fill("[x]: /u\n[x]"),
}


# Under coverage tracing a run takes up to half a minute, and the test makes six.
@pytest.mark.timeout(240)
@pytest.mark.parametrize("source", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_input_renders_in_bounded_time(source: str) -> None:
    """Rendering grows linearly with the input: a quadratic path would make a 64 KiB
    body cost 16 times a 16 KiB one. CPU time, so that other work on the machine does
    not count. The absolute cap (about 120 us a byte) holds without a tracer; coverage
    tracing makes rendering ten times slower, so under it only the growth is checked."""
    body = clean_body(source)

    def cpu(text: str) -> float:
        started = time.process_time()
        render_markdown(text)
        return time.process_time() - started

    # The best of three runs each: a busy machine slows a run (caches, frequency) and can
    # make a linear ratio look worse, never better; a quadratic path is slow every time.
    quarter = max(best_of(3, lambda: cpu(body[: len(body) // 4])), 0.005)
    elapsed = best_of(3, lambda: cpu(body))
    html = render_markdown(body)
    if sys.gettrace() is None:
        assert elapsed < 8.0, f"{elapsed:.2f} s"
    assert elapsed / quarter < 8, f"{quarter:.3f} s for a quarter, {elapsed:.3f} s for all"
    assert_safe(html)
