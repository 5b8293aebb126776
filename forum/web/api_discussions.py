"""Discussions over JSON: boards, threads, posts, positions, revisions, search.

Everything is readable without an account; writes need a signed-in caller (and, with
a cookie, the CSRF header).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from forum.actions.post_edits import do_lock_thread
from forum.actions.posts import (
    do_open_thread,
    do_reply,
)
from forum.db.base import ID_MAX
from forum.db.discussion_views import group_ref
from forum.db.discussions_queries import (
    BOARD_PAGE,
    BOARD_PAGE_MAX,
    THREAD_PAGE,
    THREAD_PAGE_MAX,
    board_seq,
    get_board_line,
    get_post,
    get_thread,
    list_board,
    list_positions,
    list_thread_posts,
)
from forum.db.search import SEARCH_MAX, SearchQuery, search_posts
from forum.domain.vocabulary import Family
from forum.errors import N_, ErrorCode, ForumError
from forum.limits import PostThrottle
from forum.render_cache import etag_for
from forum.web.conditional import Kept, KeptResponse, keep, matches, not_modified
from forum.web.discussion_context import known_seq, thread_seq
from forum.web.http import (
    app_state,
    client_ip,
    db,
    json_response,
    lazy_db,
    principal,
    query_int,
    query_text,
    read_json,
)
from forum.web.http import require_principal as require_caller
from forum.web.openapi import ApiRouter, one_of, whole
from forum.web.schemas_discussions import (
    BoardOut,
    LockBody,
    OpenThreadBody,
    PositionsOut,
    PostOut,
    ReplyBody,
    SearchOut,
    ThreadCreated,
    ThreadDetail,
    ThreadOut,
)

router = ApiRouter(tag="discussions")
SEARCH_OFFSET_MAX = 1000


def throttle(request: Request) -> PostThrottle:
    state = app_state(request)
    settings = state["settings"]
    return PostThrottle(
        state["limiter"],
        settings.post_limit,
        settings.post_window,
        client_ip=client_ip(request),
        ip_limit=settings.post_ip_limit,
    )


async def sees_deleted(request: Request) -> bool:
    """The secretariat keeps deleted content; everyone else reads tombstones."""
    caller = await principal(request)
    return caller is not None and caller.user.is_secretariat


@router.route(
    "GET",
    "/action-lines/{code}/threads",
    summary="A board: the threads of an action line or theme, latest activity first",
    response=BoardOut,
    errors=(404, 422),
    query=[
        ("cursor", "next_cursor of the previous page"),
        ("limit", f"1-{BOARD_PAGE_MAX}", whole(1, BOARD_PAGE_MAX)),
    ],
)
async def board(request: Request) -> Response:
    limit = query_int(request, "limit", BOARD_PAGE, low=1, high=BOARD_PAGE_MAX)
    async with db(request) as session:
        line = await get_board_line(session, request.path_params["code"])
        seq = await board_seq(session, line.id)
        page = await list_board(
            session, line, cursor=request.query_params.get("cursor"), limit=limit
        )
    return json_response(
        {
            "action_line": line.code,
            "seq": seq,
            "threads": [view.wire() for view in page.items],
            "next_cursor": page.next_cursor,
        }
    )


@router.route(
    "POST",
    "/action-lines/{code}/threads",
    summary="Open a thread (a comment, or a position for a group given in `group`)",
    body=OpenThreadBody,
    response=ThreadCreated,
    status=201,
    auth="required",
    errors=(404, 429),
)
async def open_thread(request: Request) -> Response:
    caller = await require_caller(request)
    body = await read_json(request, OpenThreadBody)
    broker = app_state(request)["broker"]
    async with db(request) as session:
        thread, post = await do_open_thread(
            session,
            broker,
            throttle(request),
            user=caller.user,
            line_code=request.path_params["code"],
            title=body.title,
            body=body.body,
            group=body.group,
        )
    return json_response({"thread": thread.wire(), "post": post.wire()}, status=201)


@router.route(
    "GET",
    "/threads/{thread_id:id}",
    summary="A thread and a page of its posts, as a tree in reply order",
    response=ThreadDetail,
    auth="optional",
    errors=(404, 422),
    etag=True,
    query=[
        ("cursor", "next_cursor of the previous page"),
        (
            "at",
            "id of a post to start the page at (permalinks into long threads)",
            whole(0, ID_MAX),
        ),
        ("limit", f"1-{THREAD_PAGE_MAX}", whole(1, THREAD_PAGE_MAX)),
    ],
)
async def thread_detail(request: Request) -> Response:
    limit = query_int(request, "limit", THREAD_PAGE, low=1, high=THREAD_PAGE_MAX)
    at = query_int(request, "at", 0, low=0, high=ID_MAX)
    cursor = query_text(request, "cursor")
    thread_id = request.path_params["thread_id"]
    caller = await principal(request)
    show_deleted = caller is not None and caller.user.is_secretariat
    cache = app_state(request)["render_cache"]
    signed_in = caller is not None
    async with lazy_db(request) as lazy:
        # Read first: whatever is loaded after it is at least this fresh. While the
        # broker's word on the board can be trusted, a kept answer needs no database.
        seq = known_seq(request, thread_id, signed_in=signed_in)
        if seq is None:
            seq = await thread_seq(request, await lazy.get(), thread_id, signed_in=signed_in)
        key = ("thread.json", thread_id, seq, cursor, at, limit, show_deleted)
        kept = cache.get(key)
        etag = kept.etag if isinstance(kept, Kept) else etag_for(key)
        if matches(request, etag):
            return not_modified(etag)
        if not isinstance(kept, Kept):
            session = await lazy.get()
            view = await get_thread(session, thread_id)
            start = None
            if at:
                anchor = await get_post(session, at)
                if anchor.post.thread_id != view.thread.id:
                    raise ForumError(ErrorCode.NOT_FOUND, N_("No such post in this thread."))
                start = anchor.post.path
            page = await list_thread_posts(
                session,
                view.thread.id,
                cursor=cursor,
                start_path=start,
                limit=limit,
                show_deleted=show_deleted,
            )
            body = orjson.dumps(
                {
                    "thread": view.wire(),
                    "seq": seq,
                    "posts": [post.wire() for post in page.items],
                    "next_cursor": page.next_cursor,
                }
            )
            kept = keep(body, "application/json", etag)
            cache.put(key, kept, len(body))
    return KeptResponse(kept)


@router.route(
    "POST",
    "/threads/{thread_id:id}/posts",
    summary="Reply in a thread, to the thread or to one of its posts",
    body=ReplyBody,
    response=PostOut,
    status=201,
    auth="required",
    errors=(404, 423, 429),
)
async def reply(request: Request) -> Response:
    caller = await require_caller(request)
    body = await read_json(request, ReplyBody)
    broker = app_state(request)["broker"]
    async with db(request) as session:
        _, post = await do_reply(
            session,
            broker,
            throttle(request),
            user=caller.user,
            thread_id=request.path_params["thread_id"],
            parent_id=body.parent_id,
            body=body.body,
            group=body.group,
        )
    return json_response(post.wire(), status=201)


@router.route(
    "PUT",
    "/threads/{thread_id:id}/lock",
    summary="Lock or unlock a thread (chairs of groups following the action line, secretariat)",
    body=LockBody,
    response=ThreadOut,
    auth="required",
    errors=(404,),
)
async def lock(request: Request) -> Response:
    caller = await require_caller(request)
    body = await read_json(request, LockBody)
    async with db(request) as session:
        view = await do_lock_thread(
            session,
            app_state(request)["broker"],
            user=caller.user,
            thread_id=request.path_params["thread_id"],
            locked=body.locked,
        )
    return json_response(view.wire())


@router.route(
    "GET",
    "/action-lines/{code}/positions",
    summary="Every position on an action line, by group, with its co-signers",
    response=PositionsOut,
    errors=(404,),
)
async def positions(request: Request) -> Response:
    async with db(request) as session:
        line = await get_board_line(session, request.path_params["code"])
        found = await list_positions(session, line)
    groups: dict[int, dict[str, Any]] = {}
    for item in found:
        group = item.view.group
        if group is None:  # a position always has a group; its row may have gone
            continue
        entry = groups.setdefault(group.id, {"group": group_ref(group), "positions": []})
        entry["positions"].append({**item.view.wire(), "thread_title": item.thread.title})
    return json_response({"action_line": line.code, "groups": list(groups.values())})


def _date_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("'{name}' must be a date (YYYY-MM-DD) or ISO 8601 time."),
            field=name,
            params={"name": name},
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def search_query(request: Request, *, limit: int = 20) -> SearchQuery:
    """The search form's fields, from the query string, validated."""
    params = request.query_params
    family = params.get("family") or None
    if family is not None and family not in {f.value for f in Family}:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Unknown family '{family}'."),
            field="family",
            params={"family": family},
        )
    kind = params.get("kind") or None
    if kind is not None and kind not in {"comment", "position"}:
        raise ForumError(ErrorCode.VALIDATION, N_("kind is comment or position."), field="kind")
    until = _date_param(request, "until")
    if until is not None and len(params.get("until", "").strip()) == 10:
        until = until.replace(hour=23, minute=59, second=59, microsecond=999_999)
    return SearchQuery(
        text=params.get("q", "").strip(),
        action_line=params.get("action_line") or None,
        family=family,
        group=params.get("group") or None,
        kind=kind,
        since=_date_param(request, "since"),
        until=until,
        limit=query_int(request, "limit", limit, low=1, high=SEARCH_MAX),
        offset=query_int(request, "offset", 0, low=0, high=SEARCH_OFFSET_MAX),
    )


@router.route(
    "GET",
    "/search",
    summary="Full-text search over posts and thread titles, ranked, with excerpts",
    response=SearchOut,
    errors=(422,),
    query=[
        ("q", 'words, "a phrase", -excluded, OR'),
        ("action_line", "code of an action line or theme"),
        ("family", "stakeholder family of the author", one_of(Family)),
        ("group", "slug of the group a position speaks for"),
        ("kind", "comment or position", one_of(["comment", "position"])),
        ("since", "from this date (YYYY-MM-DD) or time"),
        ("until", "up to this date (inclusive) or time"),
        ("limit", f"1-{SEARCH_MAX}", whole(1, SEARCH_MAX)),
        ("offset", f"0-{SEARCH_OFFSET_MAX}", whole(0, SEARCH_OFFSET_MAX)),
    ],
)
async def search(request: Request) -> Response:
    query = search_query(request)
    if not query.text:
        raise ForumError(ErrorCode.VALIDATION, N_("Type something to search for."), field="q")
    async with db(request) as session:
        hits = await search_posts(session, query)
    more = len(hits) == query.limit and query.offset + query.limit <= SEARCH_OFFSET_MAX
    return json_response(
        {
            "query": query.text,
            "hits": [hit.wire() for hit in hits],
            "next_offset": query.offset + query.limit if more else None,
        }
    )
