"""Posts over JSON: one post, its edits and deletion, its revisions, the co-signatures
of a position, and the preview of a body as it would be stored.

The endpoints of whole boards and threads are in `api_discussions`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from forum.actions.positions import do_cosign, do_withdraw_cosignature
from forum.actions.post_edits import do_delete_post, do_edit_post
from forum.db.discussions_queries import get_post, list_revisions
from forum.web.api_discussions import sees_deleted
from forum.web.http import app_state, db, json_response, read_json
from forum.web.http import require_principal as require_caller
from forum.web.openapi import ApiRouter
from forum.web.preview import preview_html
from forum.web.schemas_discussions import (
    CosignBody,
    EditBody,
    PostOut,
    PreviewBody,
    PreviewOut,
    RevisionList,
)

router = ApiRouter(tag="discussions")


@router.route(
    "GET",
    "/posts/{post_id:id}",
    summary="One post (its permalink)",
    response=PostOut,
    auth="optional",
    errors=(404,),
)
async def post_detail(request: Request) -> Response:
    show_deleted = await sees_deleted(request)
    async with db(request) as session:
        view = await get_post(session, request.path_params["post_id"], show_deleted=show_deleted)
    return json_response(view.wire())


@router.route(
    "PATCH",
    "/posts/{post_id:id}",
    summary="Edit one's own post; the previous text stays readable as a revision",
    body=EditBody,
    response=PostOut,
    auth="required",
    errors=(404, 409, 423),
)
async def edit(request: Request) -> Response:
    caller = await require_caller(request)
    body = await read_json(request, EditBody)
    async with db(request) as session:
        view = await do_edit_post(
            session,
            app_state(request)["broker"],
            user=caller.user,
            post_id=request.path_params["post_id"],
            body=body.body,
        )
    return json_response(view.wire())


@router.route(
    "DELETE",
    "/posts/{post_id:id}",
    summary="Delete a post (its author or a moderator), leaving a tombstone",
    response=PostOut,
    auth="required",
    errors=(404, 409, 423),
)
async def delete(request: Request) -> Response:
    caller = await require_caller(request)
    async with db(request) as session:
        view = await do_delete_post(
            session,
            app_state(request)["broker"],
            user=caller.user,
            post_id=request.path_params["post_id"],
        )
    return json_response(view.wire())


@router.route(
    "GET",
    "/posts/{post_id:id}/revisions",
    summary="Every version of a post, the first included",
    response=RevisionList,
    auth="optional",
    errors=(404,),
)
async def revisions(request: Request) -> Response:
    show_deleted = await sees_deleted(request)
    post_id = request.path_params["post_id"]
    async with db(request) as session:
        view = await get_post(session, post_id, show_deleted=show_deleted)
        rows = await list_revisions(session, post_id) if view.visible else []
    return json_response(
        {
            "post_id": post_id,
            "revisions": [
                {
                    "number": revision.number,
                    "body": revision.body,
                    "html": revision.html,
                    "editor": editor.public(),
                    "created_at": revision.created_at.isoformat(),
                }
                for revision, editor in rows
            ],
        }
    )


@router.route(
    "POST",
    "/posts/{post_id:id}/cosignatures",
    summary="Co-sign a position for a group (its chair or coordinator)",
    body=CosignBody,
    response=PostOut,
    status=201,
    auth="required",
    errors=(404, 409),
)
async def cosign(request: Request) -> Response:
    caller = await require_caller(request)
    body = await read_json(request, CosignBody)
    async with db(request) as session:
        view = await do_cosign(
            session,
            app_state(request)["broker"],
            user=caller.user,
            post_id=request.path_params["post_id"],
            group=body.group,
        )
    return json_response(view.wire(), status=201)


@router.route(
    "DELETE",
    "/posts/{post_id:id}/cosignatures/{slug}",
    summary="Withdraw a group's co-signature of a position (the group's chair or coordinator)",
    response=PostOut,
    auth="required",
    errors=(404, 409),
)
async def withdraw_cosignature(request: Request) -> Response:
    caller = await require_caller(request)
    async with db(request) as session:
        view = await do_withdraw_cosignature(
            session,
            app_state(request)["broker"],
            user=caller.user,
            post_id=request.path_params["post_id"],
            group=request.path_params["slug"],
        )
    return json_response(view.wire())


@router.route(
    "POST",
    "/preview",
    summary="The HTML a body would be stored as, by the renderer of posts; stores nothing",
    body=PreviewBody,
    response=PreviewOut,
    auth="required",
    errors=(429,),
)
async def preview(request: Request) -> Response:
    caller = await require_caller(request)
    body = await read_json(request, PreviewBody)
    return json_response({"html": await preview_html(request, caller.user, body.body)})
