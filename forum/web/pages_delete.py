"""The confirmation step before a post is deleted: a page that works without JavaScript.

The thread page's *Delete* is a link here; this page shows the post's excerpt and posts
the form (with its CSRF token and `confirm=1`) that deletes. A POST without `confirm`
comes back here, so no form or stale page deletes at one click.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.actions.posts import actor_on_board
from forum.db.discussions_queries import get_post, get_thread
from forum.domain.discussions import check_delete_post
from forum.errors import N_, ErrorCode, ForumError
from forum.web.http import db, principal
from forum.web.pages import page_context
from forum.web.templates import render

EXCERPT_CHARS = 300


async def confirm_delete_page(request: Request) -> Response:
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    post_id: int = request.path_params["post_id"]
    async with db(request) as session:
        view = await get_post(session, post_id)
        thread = await get_thread(session, view.post.thread_id)
        actor = await actor_on_board(session, caller.user, thread.line.id)
    # The same rule as the deletion itself: nobody is asked to confirm what they may
    # not do.
    check_delete_post(
        actor,
        author_id=view.post.author_id,
        deleted=view.post.deleted,
        locked=thread.thread.locked,
    )
    context = await page_context(
        request,
        post=view,
        thread=thread.thread,
        line=thread.line,
        excerpt_chars=EXCERPT_CHARS,
    )
    return render(request, "discussions/delete.html", context)


routes = [
    Route("/posts/{post_id:id}/delete", confirm_delete_page, methods=["GET"]),
]
