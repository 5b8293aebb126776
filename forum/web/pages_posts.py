"""The pages of one post: its permalink, its edit form, deleting it, co-signing a
position and withdrawing a co-signature, its revisions, and the post alone as this
reader sees it in a thread (what `thread.js` inserts when a post arrives live).

The boards and threads themselves are in `pages_discussions`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.positions import do_cosign, do_withdraw_cosignature
from forum.actions.post_edits import do_delete_post, do_edit_post
from forum.actions.posts import actor_on_board
from forum.broker import Broker
from forum.db.discussion_views import PostView
from forum.db.discussions_queries import get_post, get_thread, list_revisions
from forum.db.models import User
from forum.domain.discussions import check_edit_post
from forum.errors import N_, ErrorCode, ForumError
from forum.web.api_discussions import sees_deleted
from forum.web.discussion_context import path_id, post_url, viewer
from forum.web.forms import field, read_form
from forum.web.http import app_state, db, principal
from forum.web.pages import page_context
from forum.web.preview import preview_html, wants_preview
from forum.web.revision_diff import revision_diffs
from forum.web.templates import render


async def post_page(request: Request) -> Response:
    show_deleted = await sees_deleted(request)
    async with db(request) as session:
        view = await get_post(session, path_id(request, "post_id"), show_deleted=show_deleted)
        thread = await get_thread(session, view.post.thread_id)
    context = await page_context(
        request,
        post=view,
        view=thread,
        thread=thread.thread,
        line=thread.line,
        thread_url=await post_url(request, view),
        **await viewer(request, thread.line.id),
    )
    return render(request, "discussions/post.html", context)


async def post_article(request: Request) -> Response:
    """One post of a thread as this reader sees it there, and nothing else: a live page
    inserts it as it is, so a post that arrives looks as the page would have shown it,
    with this reader's own actions (none, signed out)."""
    show_deleted = await sees_deleted(request)
    async with db(request) as session:
        view = await get_post(session, path_id(request, "post_id"), show_deleted=show_deleted)
        thread = await get_thread(session, view.post.thread_id)
    context = await page_context(
        request, view=view, thread=thread.thread, **await viewer(request, thread.line.id)
    )
    response = render(request, "discussions/article.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


async def edit_page(request: Request) -> Response:
    post_id = path_id(request, "post_id")
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to edit your posts."))
    error: ForumError | None = None
    body: str | None = None
    preview: str | None = None
    if request.method == "POST":
        form = await read_form(request)
        body = field(form, "body")
        try:
            if wants_preview(form):
                preview = await preview_html(request, caller.user, body)
            else:
                async with db(request) as session:
                    view = await do_edit_post(
                        session,
                        app_state(request)["broker"],
                        user=caller.user,
                        post_id=post_id,
                        body=body,
                    )
                return RedirectResponse(await post_url(request, view), status_code=303)
        except ForumError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                raise
            error = exc
    async with db(request) as session:
        view = await get_post(session, post_id)
        thread = await get_thread(session, view.post.thread_id)
        actor = await actor_on_board(session, caller.user, thread.line.id)
    if error is None:
        # The rule of the edit itself: nobody is offered a form that cannot be saved.
        check_edit_post(
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
        body=view.post.body if body is None else body,
        preview=preview,
        error=error,
    )
    return render(request, "discussions/edit.html", context, status=error.status if error else 200)


async def delete_post(request: Request) -> Response:
    form = await read_form(request)
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    if field(form, "confirm") != "1":
        # Only the confirmation page's form deletes (forum/web/pages_delete.py).
        return RedirectResponse(f"/posts/{path_id(request, 'post_id')}/delete", status_code=303)
    async with db(request) as session:
        view = await do_delete_post(
            session,
            app_state(request)["broker"],
            user=caller.user,
            post_id=path_id(request, "post_id"),
        )
    return RedirectResponse(await post_url(request, view), status_code=303)


class CosignAction(Protocol):
    def __call__(
        self, session: AsyncSession, broker: Broker, *, user: User, post_id: int, group: str
    ) -> Awaitable[PostView]: ...


async def _cosignature_form(request: Request, action: CosignAction) -> Response:
    """Co-sign or withdraw from the position's page: the same form, the same checks."""
    form = await read_form(request)
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    async with db(request) as session:
        view = await action(
            session,
            app_state(request)["broker"],
            user=caller.user,
            post_id=path_id(request, "post_id"),
            group=field(form, "group"),
        )
    return RedirectResponse(await post_url(request, view), status_code=303)


async def cosign_post(request: Request) -> Response:
    return await _cosignature_form(request, do_cosign)


async def withdraw_post(request: Request) -> Response:
    return await _cosignature_form(request, do_withdraw_cosignature)


async def revisions_page(request: Request) -> Response:
    show_deleted = await sees_deleted(request)
    async with db(request) as session:
        view = await get_post(session, path_id(request, "post_id"), show_deleted=show_deleted)
        thread = await get_thread(session, view.post.thread_id)
        revisions = await list_revisions(session, view.post.id) if view.visible else []
    # A diff of two long, unlike texts is seconds of CPU: off the event loop.
    diffs = await asyncio.to_thread(revision_diffs, [revision.body for revision, _ in revisions])
    context = await page_context(
        request,
        post=view,
        thread=thread.thread,
        line=thread.line,
        revisions=list(zip(revisions, diffs, strict=True)),
    )
    return render(request, "discussions/revisions.html", context)


routes = [
    Route("/posts/{post_id:id}", post_page, methods=["GET"]),
    Route("/posts/{post_id:id}/article", post_article, methods=["GET"]),
    Route("/posts/{post_id:id}/edit", edit_page, methods=["GET", "POST"]),
    Route("/posts/{post_id:id}/delete", delete_post, methods=["POST"]),
    Route("/posts/{post_id:id}/cosign", cosign_post, methods=["POST"]),
    Route("/posts/{post_id:id}/withdraw", withdraw_post, methods=["POST"]),
    Route("/posts/{post_id:id}/revisions", revisions_page, methods=["GET"]),
]
