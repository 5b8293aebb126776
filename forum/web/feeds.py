"""Atom feeds (RFC 4287): the posts of an action line, and a group's positions.

Feeds are how the mailing-list archives this forum replaces were followed: any feed
reader can subscribe without an account. The document is built with ElementTree, so
every text and attribute is escaped by the serializer; post bodies travel as the
stored, already safe HTML inside `<content type="html">`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from html import escape

from starlette.requests import Request
from starlette.responses import Response

from forum.db.base import utcnow
from forum.db.discussions_queries import FeedEntry, get_board_line, group_positions_feed
from forum.db.discussions_queries import line_feed as line_entries
from forum.db.queries import get_group
from forum.errors import N_, ErrorCode, ForumError, fill
from forum.i18n.reader import Reader
from forum.web.http import app_state, db
from forum.web.locale import reader

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
# Characters XML 1.0 cannot carry at all; the rest of Unicode passes through.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def entry_title(entry: FeedEntry, shown_to: Reader | None = None) -> str:
    """An entry's title; its words in the feed reader's language."""
    shown_to = shown_to or Reader()
    title = entry.thread.title
    if entry.view.group is not None:
        return fill(
            shown_to.gettext(N_("Position of {group}: {title}")),
            {"group": entry.view.group.name, "title": title},
        )
    if entry.view.post.number == 1:
        return title
    return fill(shown_to.gettext(N_("Re: {title}")), {"title": title})


def entry_html(entry: FeedEntry, shown_to: Reader | None = None) -> str:
    shown_to = shown_to or Reader()
    html = entry.view.html
    if entry.view.cosigners:
        names = ", ".join(escape(c.group.name) for c in entry.view.cosigners)
        # The translation is ours, the names escaped: the sentence is safe HTML.
        sentence = fill(shown_to.gettext(N_("Co-signed by {names}.")), {"names": names})
        html += f"<p>{sentence}</p>"
    return html


def atom_document(
    *,
    base: str,
    feed_id: str,
    title: str,
    subtitle: str,
    alternate: str,
    entries: Sequence[FeedEntry],
    shown_to: Reader | None = None,
) -> bytes:
    shown_to = shown_to or Reader()
    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": shown_to.language})
    _sub(feed, "id", base + feed_id)
    _sub(feed, "title", title)
    _sub(feed, "subtitle", subtitle)
    updated = max(
        (e.view.post.edited_at or e.view.post.created_at for e in entries), default=utcnow()
    )
    _sub(feed, "updated", updated.isoformat())
    _sub(feed, "link", rel="self", type="application/atom+xml", href=base + feed_id)
    _sub(feed, "link", rel="alternate", type="text/html", href=base + alternate)
    _sub(feed, "generator", "Agora")
    for entry in entries:
        post = entry.view.post
        item = _sub(feed, "entry")
        url = f"{base}/posts/{post.id}"
        _sub(item, "id", url)
        _sub(item, "title", entry_title(entry, shown_to))
        _sub(item, "published", post.created_at.isoformat())
        _sub(item, "updated", (post.edited_at or post.created_at).isoformat())
        author = _sub(item, "author")
        _sub(author, "name", entry.view.author.display_name)
        _sub(item, "link", rel="alternate", type="text/html", href=url)
        _sub(item, "category", term=entry.line.code, label=entry.line.title)
        _sub(item, "category", term=post.kind)
        _sub(item, "content", entry_html(entry, shown_to), type="html")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def _base(request: Request) -> str:
    # Not `request.base_url`: that is built from the Host header, which the client
    # chooses, and a cached or forwarded feed would carry its links to everyone.
    return app_state(request)["settings"].public_url


async def line_feed(request: Request) -> Response:
    code = request.path_params["code"]
    async with db(request) as session:
        line = await get_board_line(session, code)
        entries = await line_entries(session, line)
    shown_to = await reader(request)
    document = atom_document(
        base=_base(request),
        feed_id=f"/action-lines/{line.code}/feed.atom",
        title=f"{line.code}: {line.title}",
        subtitle=fill(
            shown_to.gettext(N_("Every post in the discussion of {code} on Agora")),
            {"code": line.code},
        ),
        alternate=f"/action-lines/{line.code}",
        entries=entries,
        shown_to=shown_to,
    )
    return _feed_response(document, shown_to)


def _feed_response(document: bytes, shown_to: Reader) -> Response:
    headers = {"Content-Language": shown_to.language, "Vary": "Accept-Language, Cookie"}
    return Response(document, media_type=MEDIA_TYPE, headers=headers)


async def positions_feed(request: Request) -> Response:
    async with db(request) as session:
        group = await get_group(session, request.path_params["slug"])
        if group is None:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such group."))
        entries = await group_positions_feed(session, group)
    shown_to = await reader(request)
    document = atom_document(
        base=_base(request),
        feed_id=f"/groups/{group.slug}/positions.atom",
        title=fill(shown_to.gettext(N_("Positions of {group}")), {"group": group.name}),
        subtitle=fill(
            shown_to.gettext(N_("The positions {group} posted on Agora, with their co-signers")),
            {"group": group.name},
        ),
        alternate=f"/groups/{group.slug}",
        entries=entries,
        shown_to=shown_to,
    )
    return _feed_response(document, shown_to)
