"""A thread page's posts, kept per change of its board and rendered once per language.

Every write that changes what a board's pages show takes the board's next `seq`, so
what is kept under a key holding that `seq` stays right until it stops being asked
for (forum/render_cache.py). Three things are kept:

- the page's rows (the thread and its posts, as the queries read them), whoever reads;
- each post's head, all of it but its actions, per language and time zone;
- each post's whole `<article>` per kind of reader (whether they may post, whether
  they moderate the board), twice: as its author sees it and as anyone else does.

A request then renders only what is its reader's own: the page around the posts (their
name, their CSRF token, the reply form) and the actions of the positions they could
co-sign or withdraw for a group, which carry their CSRF token and their groups. Every
other action is a link whose target checks the permission again when followed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, cast

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send

from forum.db.discussion_views import PostView, ThreadView
from forum.db.discussions_queries import get_post, get_thread, list_thread_posts
from forum.i18n.reader import Reader
from forum.render_cache import RenderCache
from forum.web.http import LazySession
from forum.web.labels import FAMILY_NAMES
from forum.web.templates import csrf_token, finish_page, render

_EMPTY = Markup("")
# A piece of a page's body: kept bytes, or a view of them.
Part = bytes | memoryview
# The whitespace `thread.html` put around each post when it looped over them.
_ARTICLE = Markup("\n  {}\n  {}\n</article>\n  ")


@dataclass(frozen=True)
class ThreadPage:
    view: ThreadView
    posts: list[PostView]
    next_cursor: str | None
    # Whether the page starts at a post (`?at=`) rather than at the thread's beginning.
    starts_at_post: bool


@dataclass(frozen=True)
class _Piece:
    """One post's `<article>`, as its author and as anyone else reads it."""

    author_id: int
    # A position's actions name the reader's groups and carry their CSRF token.
    per_reader: bool
    others: bytes
    own: bytes


@dataclass(frozen=True)
class _Pieces:
    """Every post of a page, and all of them as anyone but their author reads them,
    joined once: a reader who wrote none of them is sent that as it is, the others
    it with their own posts put in (`_spans`)."""

    pieces: list[_Piece]
    others: bytes
    # Where each post's `others` is in the joined bytes.
    offsets: list[int]
    # The indexes of each author's posts.
    by_author: dict[int, tuple[int, ...]]

    @classmethod
    def of(cls, pieces: list[_Piece]) -> _Pieces:
        offsets = [0]
        for piece in pieces:
            offsets.append(offsets[-1] + len(piece.others))
        joined = b"".join(piece.others for piece in pieces)
        by_author: dict[int, list[int]] = {}
        for n, piece in enumerate(pieces):
            by_author.setdefault(piece.author_id, []).append(n)
        # Each post's `others` is kept once, in the joined bytes.
        kept = [replace(piece, others=b"") for piece in pieces]
        return cls(kept, joined, offsets, {a: tuple(ns) for a, ns in by_author.items()})

    def size(self) -> int:
        return len(self.others) + sum(len(p.own) for p in self.pieces)


def _spans(kept: _Pieces, own: dict[int, bytes]) -> list[Part]:
    """The joined posts with those at the indexes of `own` replaced, in views of the
    joined bytes rather than copies of them."""
    whole = memoryview(kept.others)
    out: list[Part] = []
    start = 0
    for index in sorted(own):
        if kept.offsets[index] > start:
            out.append(whole[start : kept.offsets[index]])
        out.append(own[index])
        start = kept.offsets[index + 1]
    if start < len(kept.others):
        out.append(whole[start:])
    return out


async def load_page(
    lazy: LazySession,
    cache: RenderCache,
    key: tuple[Hashable, ...],
    *,
    thread_id: int,
    cursor: str | None,
    at: int | None,
    show_deleted: bool,
) -> ThreadPage:
    """The page's rows, read once per `key` (which holds the board's `seq`)."""
    found = cache.get(("thread.page", *key))
    if isinstance(found, ThreadPage):
        return found
    session = await lazy.get()
    view = await get_thread(session, thread_id)
    start = None
    if at is not None:
        anchor = await get_post(session, at)
        if anchor.post.thread_id == thread_id:
            start = anchor.post.path
    page = await list_thread_posts(
        session, thread_id, cursor=cursor, start_path=start, show_deleted=show_deleted
    )
    loaded = ThreadPage(view, page.items, page.next_cursor, start is not None)
    # Counted by the text the rows hold, most of their size.
    size = sum(len(v.post.html) + len(v.post.body) + 200 for v in page.items)
    cache.put(("thread.page", *key), loaded, size)
    return loaded


def posts_html(parts: list[Part]) -> Markup:
    """The posts of `post_parts` as the template takes them."""
    # Every part is an article the macros made, escaped where it must be.
    return Markup(b"".join(parts).decode())  # noqa: S704


def post_parts(
    request: Request,
    cache: RenderCache,
    key: tuple[Hashable, ...],
    page: ThreadPage,
    shown_to: Reader,
    allowed: dict[str, Any],
) -> list[Part]:
    """Every post of the page as `thread.html` shows it to this reader, encoded, in as
    few parts as it can: views of the kept bytes, and the reader's own posts."""
    me_id: int | None = allowed["me_id"]
    kind = (me_id is not None, allowed["can_post"], allowed["moderates"])
    pieces_key = ("thread.posts", *key, kind)
    kept = cache.get(pieces_key)
    if not isinstance(kept, _Pieces):
        kept = _Pieces.of(_pieces(request, cache, key, page, shown_to, kind))
        cache.put(pieces_key, kept, kept.size())
    speaks_for = allowed["speaks_for"]
    if not speaks_for:
        written = kept.by_author.get(me_id) if me_id is not None else None
        if written is None:
            return [kept.others]
        return _spans(kept, {n: kept.pieces[n].own for n in written})
    # This reader's own actions on positions, rendered for them alone.
    actions = _macros(request, shown_to, with_request=True)["post_actions"]
    heads = _heads(request, cache, key, page, shown_to)
    locked = page.view.thread.locked
    own: dict[int, bytes] = {}
    for n, (view, piece) in enumerate(zip(page.posts, kept.pieces, strict=True)):
        if piece.per_reader:
            mine = actions(
                view, me_id, allowed["moderates"], allowed["can_post"], speaks_for, locked
            )
            own[n] = _article(heads[view.post.id], mine)
        elif piece.author_id == me_id:
            own[n] = piece.own
    return _spans(kept, own)


def _pieces(
    request: Request,
    cache: RenderCache,
    key: tuple[Hashable, ...],
    page: ThreadPage,
    shown_to: Reader,
    kind: tuple[bool, bool, bool],
) -> list[_Piece]:
    signed_in, can_post, moderates = kind
    heads = _heads(request, cache, key, page, shown_to)
    actions = _macros(request, shown_to)["post_actions"]
    locked = page.view.thread.locked
    pieces = []
    for view in page.posts:
        post = view.post
        head = heads[post.id]
        if not signed_in:
            others = own = _article(head, _EMPTY)
        else:
            # No groups to speak for: what every such reader sees. Id -1 stands for
            # "someone else" (ids start at 1), the author's for the author.
            others = _article(head, actions(view, -1, moderates, can_post, (), locked))
            own = _article(head, actions(view, post.author_id, moderates, can_post, (), locked))
        per_reader = signed_in and post.kind == "position" and not post.deleted
        pieces.append(_Piece(post.author_id, per_reader, others, own))
    return pieces


def _article(head: Markup, actions: Markup) -> bytes:
    return _ARTICLE.format(head, actions).encode()


def _heads(
    request: Request,
    cache: RenderCache,
    key: tuple[Hashable, ...],
    page: ThreadPage,
    shown_to: Reader,
) -> dict[int, Markup]:
    """What every reader sees of each post (all but its actions), by post id."""
    heads_key = ("thread.heads", *key)
    heads = cache.get(heads_key)
    if not isinstance(heads, dict):
        head = _macros(request, shown_to)["post_head"]
        heads = {view.post.id: head(view) for view in page.posts}
        cache.put(heads_key, heads, sum(len(h) for h in heads.values()))
    return cast(dict[int, Markup], heads)


def _macros(
    request: Request, shown_to: Reader, *, with_request: bool = False
) -> dict[str, Callable[..., Markup]]:
    """The macros of `_post.html` for this reader's language; `with_request` for those
    that carry the reader's CSRF token. A macro of an autoescaping environment returns
    Markup: escaped where it must be."""
    env = cast(Jinja2Templates, request.app.state.templates).env
    values: dict[str, Any] = {"families": FAMILY_NAMES, "reader": shown_to}
    if with_request:
        values["request"] = request
    module = env.get_template("discussions/_post.html").make_module(values)
    return cast(dict[str, Callable[..., Markup]], vars(module))


# Stand-ins for what only one reader may see, in the page rendered once for every
# reader of a kind. A NUL is refused in anything stored (forum/storable.py) and the
# rest is this process's secret, so no text of a post or a name can hold one.
_NONCE = secrets.token_hex(12)
_CSRF = f"\x00csrf-{_NONCE}\x00"
_NAME = f"\x00name-{_NONCE}\x00"
_POSTS = f"\x00posts-{_NONCE}\x00"
_MARKS = re.compile(f"({re.escape(_CSRF)}|{re.escape(_NAME)}|{re.escape(_POSTS)})")


class _NoStandInError(Exception):
    """The page asked for something of its reader that has no stand-in."""


@dataclass(frozen=True)
class _Someone:
    """`me` in the page rendered for every reader of a kind: their name a stand-in."""

    is_secretariat: bool
    display_name: str = _NAME

    def __getattr__(self, name: str) -> Any:
        # Not AttributeError, which Jinja would quietly render as nothing.
        raise _NoStandInError(name)


def reader_page(
    request: Request,
    cache: RenderCache,
    key: tuple[Hashable, ...],
    context: dict[str, Any],
    posts: list[Part],
) -> Response:
    """A signed-in reader's page (`thread.html`), from the page kept for readers of
    their kind with their name, their CSRF token and their posts' actions put in.

    The kind is everything else of theirs the page shows: whether they are of the
    secretariat, may post, moderate, and for which groups they may post."""
    me = context["me"]
    kind = (
        me.is_secretariat,
        context["can_post"],
        context["moderates"],
        tuple((g.id, g.slug, g.name) for g in context["speaks_for"]),
    )
    frame_key = ("thread.frame", *key, kind)
    parts = cache.get(frame_key)
    if not isinstance(parts, list):
        parts = _frame(request, {**context, "me": _Someone(me.is_secretariat)})
        if parts is None:
            # A stand-in did not come through as it went in: render it all for them.
            full = {**context, "posts_html": posts_html(posts)}
            return render(request, "discussions/thread.html", full)
        cache.put(frame_key, parts, sum(len(p) for p in parts))
    own = {
        _CSRF: str(escape(csrf_token(request))).encode(),
        _NAME: str(escape(me.display_name)).encode(),
    }
    body: list[Part] = []
    for part in parts:
        if part == _POSTS:
            body.extend(posts)
        elif isinstance(part, str):
            body.append(own[part])
        else:
            body.append(part)
    return finish_page(request, PartsResponse(body), context["reader"])


# A part this large is the posts kept for readers of a kind: sent as it is, not copied.
_LARGE = 16 * 1024


class PartsResponse(Response):
    """An HTML page put together from parts: when one of them is the bulk of it (the
    posts, kept), that one is sent as it is, between what comes before and after it
    joined; else the parts are joined into one body. Each message costs a pass through
    the stack and a write, so more than three would cost more than the copy."""

    media_type = "text/html"

    def __init__(self, parts: list[Part]) -> None:
        self.status_code = 200
        self.background = None
        large = [n for n, part in enumerate(parts) if len(part) >= _LARGE]
        if len(large) == 1:
            [at] = large
            before, bulk, after = b"".join(parts[:at]), parts[at], b"".join(parts[at + 1 :])
            self.messages: list[Part] = [m for m in (before, bulk, after) if m]
        else:
            self.messages = [b"".join(parts)]
        self.init_headers()
        length = sum(len(message) for message in self.messages)
        self.raw_headers.append((b"content-length", str(length).encode("latin-1")))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        last = len(self.messages) - 1
        for n, message in enumerate(self.messages):
            await send({"type": "http.response.body", "body": message, "more_body": n < last})


def _frame(request: Request, context: dict[str, Any]) -> list[bytes | str] | None:
    """The page with its stand-ins, encoded, each stand-in a `str` of its own."""
    templates = cast(Jinja2Templates, request.app.state.templates)
    context = {
        **context,
        "request": request,
        "csrf_token": lambda _request: _CSRF,
        "posts_html": Markup(_POSTS),  # noqa: S704 - a stand-in, replaced before sending
    }
    used = request.scope.pop("forum.csrf_used", False)
    try:
        text = templates.get_template("discussions/thread.html").render(context)
    except _NoStandInError:
        return None
    # A macro that reached the real `csrf_token` put this reader's token in the page.
    if request.scope.pop("forum.csrf_used", False):
        return None
    if used:
        request.scope["forum.csrf_used"] = True
    parts = _MARKS.split(text)
    # Every stand-in must be a part of its own: one escaped or cut would be sent.
    if any("\x00" in part for part in parts[0::2]):
        return None
    return [part if n % 2 else part.encode() for n, part in enumerate(parts)]
