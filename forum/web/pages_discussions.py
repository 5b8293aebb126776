"""Discussion pages: boards, threads, permalinks, positions, revisions and search.

Every page reads without an account and without JavaScript; `thread.js` only adds
live updates. Forms post with the CSRF field and redirect (303) after a write; a
refused form is shown again with its text and the reason.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.post_edits import do_lock_thread
from forum.actions.posts import (
    clean_title,
    do_open_thread,
    do_reply,
)
from forum.db.discussions_queries import (
    board_seq,
    get_board_line,
    get_post,
    list_board,
    list_positions,
)
from forum.db.queries import list_action_lines, list_groups
from forum.db.search import search_posts
from forum.errors import N_, ErrorCode, ForumError
from forum.render_cache import etag_for
from forum.web import feeds
from forum.web.api_discussions import (
    search_query,
    throttle,
)
from forum.web.conditional import Kept, KeptResponse, keep, matches, not_modified, validator_headers
from forum.web.discussion_context import known_seq, path_id, post_url, thread_seq, viewer
from forum.web.forms import field, read_form
from forum.web.http import app_state, db, lazy_db, principal, query_text
from forum.web.locale import reader
from forum.web.pages import page_context
from forum.web.params import form_id
from forum.web.preview import preview_html, wants_preview
from forum.web.templates import csrf_token_used, render
from forum.web.thread_render import load_page, post_parts, posts_html, reader_page


async def board_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    error: ForumError | None = None,
    preview: str | None = None,
) -> Response:
    async with db(request) as session:
        line = await get_board_line(session, request.path_params["code"])
        seq = await board_seq(session, line.id)
        page = await list_board(session, line, cursor=request.query_params.get("cursor"))
    context = await page_context(
        request,
        line=line,
        seq=seq,
        threads=page.items,
        next_cursor=page.next_cursor,
        first_page=request.query_params.get("cursor") is None,
        form=form or {},
        error=error,
        preview=preview,
        **await viewer(request, line.id),
    )
    return render(request, "discussions/board.html", context, status=error.status if error else 200)


async def board_post(request: Request) -> Response:
    form = await read_form(request)
    values = {name: field(form, name) for name in ("title", "body", "group")}
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to open a thread."))
    broker = app_state(request)["broker"]
    try:
        if wants_preview(form):
            # The title is checked as the post would check it, so that what was
            # previewed can be posted as it is.
            clean_title(values["title"])
            preview = await preview_html(request, caller.user, values["body"])
            return await board_page(request, form=values, preview=preview)
        async with db(request) as session:
            thread, _ = await do_open_thread(
                session,
                broker,
                throttle(request),
                user=caller.user,
                line_code=request.path_params["code"],
                title=values["title"],
                body=values["body"],
                group=values["group"],
            )
    except ForumError as error:
        if error.code in {ErrorCode.NOT_FOUND} and error.field is None:
            raise
        return await board_page(request, form=values, error=error)
    return RedirectResponse(f"/threads/{thread.thread.id}", status_code=303)


async def thread_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    error: ForumError | None = None,
    preview: str | None = None,
) -> Response:
    thread_id = path_id(request, "thread_id")
    caller = await principal(request)
    show_deleted = caller is not None and caller.user.is_secretariat
    reply_to = form_id(query_text(request, "reply_to") or "", "reply_to")
    at = form_id(query_text(request, "at") or "", "at")
    cursor = query_text(request, "cursor")
    # Signed out, the page is the same for every reader until the board changes: no
    # name, no buttons, no CSRF token. Anything else is rendered for its reader alone.
    shared = caller is None and form is None and error is None and reply_to is None
    cache = app_state(request)["render_cache"]
    # The same rows read differently in each language and time zone.
    shown_to = await reader(request)
    locale_key = (shown_to.language, shown_to.time_zone)
    signed_in = caller is not None
    async with lazy_db(request) as lazy:
        # Read first: whatever is loaded after it is at least this fresh. While the
        # broker's word on the board can be trusted, a kept page needs no database.
        seq = known_seq(request, thread_id, signed_in=signed_in)
        if seq is None:
            seq = await thread_seq(request, await lazy.get(), thread_id, signed_in=signed_in)
        key = ("thread.html", thread_id, seq, cursor, at, locale_key)
        if shared:
            kept = _shared_page(request, key)
            if kept is not None:
                return kept
        page_key = (thread_id, seq, cursor, at, show_deleted)
        page = await load_page(
            lazy,
            cache,
            page_key,
            thread_id=thread_id,
            cursor=cursor,
            at=at,
            show_deleted=show_deleted,
        )
        parent = None
        if reply_to is not None:
            candidate = await get_post(await lazy.get(), reply_to)
            if candidate.post.thread_id == thread_id:
                parent = candidate
    parent_id = form_id(form.get("parent_id", ""), "parent_id") if form else None
    if parent is None and parent_id is not None:
        async with db(request) as session:
            candidate = await get_post(session, parent_id)
        parent = candidate if candidate.post.thread_id == thread_id else None
    view = page.view
    allowed = await viewer(request, view.line.id)
    posts = post_parts(request, cache, (*page_key, locale_key), page, shown_to, allowed)
    context = await page_context(
        request,
        view=view,
        thread=view.thread,
        line=view.line,
        next_cursor=page.next_cursor,
        partial=page.starts_at_post or cursor is not None,
        seq=seq,
        parent=parent,
        form=form or {},
        error=error,
        preview=preview,
        **allowed,
    )
    if caller is not None and form is None and error is None and parent is None:
        # The address is in the page (the language switcher comes back to it).
        address = (request.scope["path"], request.scope["query_string"])
        return reader_page(request, cache, (*page_key, locale_key, *address), context, posts)
    context["posts_html"] = posts_html(posts)
    response = render(
        request, "discussions/thread.html", context, status=error.status if error else 200
    )
    if shared and not csrf_token_used(request):
        etag = etag_for(key)
        response.headers.update(validator_headers(etag))
        cache.put(key, keep(bytes(response.body), "text/html", etag), len(response.body))
    return response


def _shared_page(request: Request, key: tuple[object, ...]) -> Response | None:
    """The signed-out page kept under `key`: a 304 when the reader has it already."""
    kept = app_state(request)["render_cache"].get(key)
    etag = kept.etag if isinstance(kept, Kept) else etag_for(key)
    if matches(request, etag):
        return not_modified(etag)
    if isinstance(kept, Kept):
        return KeptResponse(kept)
    return None


async def thread_post(request: Request) -> Response:
    form = await read_form(request)
    values = {name: field(form, name) for name in ("body", "parent_id", "group")}
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to reply."))
    thread_id = path_id(request, "thread_id")
    parent_id = form_id(values["parent_id"], "parent_id")
    broker = app_state(request)["broker"]
    try:
        if wants_preview(form):
            preview = await preview_html(request, caller.user, values["body"])
            return await thread_page(request, form=values, preview=preview)
        async with db(request) as session:
            _, post = await do_reply(
                session,
                broker,
                throttle(request),
                user=caller.user,
                thread_id=thread_id,
                parent_id=parent_id,
                body=values["body"],
                group=values["group"],
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND and error.field is None:
            raise
        return await thread_page(request, form=values, error=error)
    return RedirectResponse(await post_url(request, post), status_code=303)


async def lock_post(request: Request) -> Response:
    form = await read_form(request)
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    thread_id = path_id(request, "thread_id")
    async with db(request) as session:
        await do_lock_thread(
            session,
            app_state(request)["broker"],
            user=caller.user,
            thread_id=thread_id,
            locked=field(form, "locked") == "1",
        )
    return RedirectResponse(f"/threads/{thread_id}", status_code=303)


async def positions_page(request: Request) -> Response:
    async with db(request) as session:
        line = await get_board_line(session, request.path_params["code"])
        found = await list_positions(session, line)
    by_group: dict[int, dict[str, Any]] = {}
    for item in found:
        if item.view.group is not None:
            entry = by_group.setdefault(item.view.group.id, {"group": item.view.group, "items": []})
            entry["items"].append(item)
    context = await page_context(request, line=line, groups=list(by_group.values()))
    return render(request, "discussions/positions.html", context)


async def search_page(request: Request) -> Response:
    query = search_query(request)
    async with db(request) as session:
        hits = await search_posts(session, query) if query.text else []
        lines = await list_action_lines(session)
        groups = await list_groups(session)
    params = {k: v for k, v in request.query_params.items() if k != "offset"}
    more = None
    if len(hits) == query.limit:
        more = {**params, "offset": str(query.offset + query.limit)}
    context = await page_context(
        request,
        query=query,
        hits=hits,
        lines=lines,
        groups=groups,
        more=more,
        params=request.query_params,
    )
    return render(request, "discussions/search.html", context)


routes = [
    Route("/action-lines/{code}", board_page, methods=["GET"]),
    Route("/action-lines/{code}", board_post, methods=["POST"]),
    Route("/action-lines/{code}/positions", positions_page, methods=["GET"]),
    Route("/action-lines/{code}/feed.atom", feeds.line_feed, methods=["GET"]),
    Route("/groups/{slug}/positions.atom", feeds.positions_feed, methods=["GET"]),
    Route("/threads/{thread_id:id}", thread_page, methods=["GET"]),
    Route("/threads/{thread_id:id}", thread_post, methods=["POST"]),
    Route("/threads/{thread_id:id}/lock", lock_post, methods=["POST"]),
    Route("/search", search_page, methods=["GET"]),
]
