"""Markdown to safe HTML, once, at write time.

A body is validated by `clean_body` (`forum.domain.textcheck`, which holds the rules
for every text field), rendered once by `render_markdown` when it is written, and the
HTML is stored: readers never pay for rendering, and the renderer's rules are the only
way HTML reaches a page.

The renderer is markdown-it's CommonMark with tables, strikethrough and linkify,
raw HTML off, and these rules on top:

- links only to `http`, `https`, `mailto` or relative URLs; anything else is text;
- every link carries `rel="nofollow ugc noopener"`;
- images become links to their source, so no third party learns who read a post;
- paragraphs, list items, headings, table cells and blockquotes carry `dir="auto"`;
- headings are shifted so that the highest is `<h3>`: the page owns `<h1>` and `<h2>`.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.common.normalize_url import normalizeLinkText
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core.state_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from forum.domain.textcheck import (
    MAX_BODY_BYTES,
    MAX_TITLE_CHARS,
    clean_body,
    clean_line,
    strip_hidden,
)

# The checks live in the domain; callers that import them from here keep working.
__all__ = [
    "MAX_BODY_BYTES",
    "MAX_TITLE_CHARS",
    "clean_body",
    "clean_line",
    "render_markdown",
    "render_markdown_async",
]

_LINK_REL = "nofollow ugc noopener"

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# Everything a browser skips or a reader cannot see when it reads a URL's scheme.
_URL_INVISIBLE_RE = re.compile(
    "[\x00-\x20\x7f-\x9f\u00ad\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
# A colon before any `/`, `?` or `#` makes the URL absolute, whatever precedes it.
_SCHEME_RE = re.compile(r"([^/?#]*?):")

# Bodies reach the renderer cleaned (`clean_body`); the renderer strips controls and
# hidden characters again so that nothing but its own rules decides what HTML holds,
# whatever source it is given. Bidi embeddings, overrides and isolates can reorder
# text even inside code, so that it reads as something other than what it is; writers
# of Arabic and Hebrew keep what they need: `dir="auto"` on each block and the marks
# U+200E, U+200F and U+061C (see `BODY_KEEPS`).
_BODY_CONTROL_STRIP_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_DIR_AUTO_TOKENS = frozenset(
    {
        "paragraph_open",
        "list_item_open",
        "heading_open",
        "th_open",
        "td_open",
        "blockquote_open",
    }
)
_TOP_HEADING = 3
_BOTTOM_HEADING = 6
_ALIGN_RE = re.compile(r"text-align:(left|center|right)")
_LANG_RE = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")


def _is_safe_url(url: str) -> bool:
    """Whether `url` may be a link target: http, https, mailto or relative.

    The scheme is read the way a lenient browser would: after percent-decoding and
    entity-decoding (repeatedly, for doubly encoded input), compatibility
    normalization (fullwidth letters), removing whitespace, controls and invisible
    characters, and lowercasing. Anything that still looks like a scheme must be on
    the allowlist.
    """
    candidate = url
    for _ in range(4):
        decoded = unescape(unquote(candidate))
        if decoded == candidate:
            break
        candidate = decoded
    else:
        return False  # encoded deeper than any honest link is
    candidate = _URL_INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", candidate)).lower()
    match = _SCHEME_RE.match(candidate)
    return match is None or match.group(1) in _SAFE_SCHEMES


class _ForumMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # noqa: N802
        return _is_safe_url(url)


class _ForumRenderer(RendererHTML):
    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children, options, env).strip()
        src = str(token.attrGet("src") or "")
        if token.meta.get("in_link") or not src or not _is_safe_url(src):
            return escapeHtml(alt)
        attrs = f' href="{escapeHtml(src)}" rel="{_LINK_REL}"'
        title = token.attrGet("title")
        if title:
            attrs += f' title="{escapeHtml(str(title))}"'
        label = alt or normalizeLinkText(src)
        return f"<a{attrs}>{escapeHtml(label)}</a>"

    def html_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return escapeHtml(tokens[idx].content)

    def html_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return escapeHtml(tokens[idx].content)


def _decorate(state: StateCore) -> None:
    """Core rule: heading shift, `dir`, link `rel`, table alignment, code language."""
    levels = [int(t.tag[1]) for t in state.tokens if t.type == "heading_open"]
    shift = _TOP_HEADING - min(levels) if levels else 0
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(_BOTTOM_HEADING, int(token.tag[1]) + shift)}"
        if token.type in _DIR_AUTO_TOKENS:
            token.attrSet("dir", "auto")
        if token.type in ("th_open", "td_open"):
            _align(token)
        elif token.type == "fence":
            _code_language(token)
        elif token.type == "inline" and token.children:
            _decorate_inline(token.children)


def _decorate_inline(children: list[Token]) -> None:
    depth = 0
    for child in children:
        if child.type == "link_open":
            child.attrSet("rel", _LINK_REL)
            depth += 1
        elif child.type == "link_close":
            depth -= 1
        elif child.type == "image" and depth > 0:
            child.meta["in_link"] = True


def _align(cell: Token) -> None:
    # Inline styles would need `style-src 'unsafe-inline'`; `align` needs nothing.
    style = cell.attrs.pop("style", None)
    if isinstance(style, str) and (match := _ALIGN_RE.fullmatch(style)):
        cell.attrSet("align", match.group(1))


def _code_language(fence: Token) -> None:
    words = unescapeAll(fence.info).split(maxsplit=1)
    fence.info = words[0] if words and _LANG_RE.fullmatch(words[0]) else ""


def _build() -> MarkdownIt:
    md = _ForumMarkdown(
        "commonmark",
        {"html": False, "linkify": True, "typographer": False, "xhtmlOut": False},
        renderer_cls=_ForumRenderer,
    )
    md.enable(["linkify", "table", "strikethrough"])
    md.disable(["html_block", "html_inline"])
    md.core.ruler.push("forum_decorate", _decorate)
    return md


# One parser for the process: rendering keeps its state per call, so threads share it.
_MD = _build()


def render_markdown(source: str) -> str:
    """Markdown -> safe HTML. Called once at write time; the HTML is stored."""
    html: str = _MD.render(strip_hidden(_BODY_CONTROL_STRIP_RE.sub("", source)))
    return html


async def render_markdown_async(source: str) -> str:
    """Same as render_markdown, run off the event loop (asyncio.to_thread)."""
    return await asyncio.to_thread(render_markdown, source)


_BLOCK_TAGS = frozenset(
    {"p", "li", "br", "h3", "h4", "h5", "h6", "pre", "blockquote", "tr", "td", "th", "hr"}
)


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """The words a reader sees in rendered HTML: what search indexes and excerpts."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


@dataclass(frozen=True)
class Rendered:
    body: str
    html: str
    plain: str


# A body up to this size renders in well under a millisecond: on the event loop, that
# costs less than handing it to a thread and back, which under load is a wait for the
# GIL on both sides. Longer bodies (up to MAX_BODY_BYTES) still go to a thread, so that
# no post holds the loop for long.
RENDER_INLINE_CHARS = 2048


async def render_body(body: str) -> Rendered:
    source = clean_body(body)
    if len(source) <= RENDER_INLINE_CHARS:
        html = render_markdown(source)
    else:
        html = await render_markdown_async(source)
    return Rendered(source, html, plain_text(html))
