"""The secretariat's JSON API: make and edit groups, edit action lines, decide the
changes of stakeholder family. Members and roles are `PUT/DELETE
/api/groups/{slug}/members/{user_id}` (api_structure). The same actions as the
secretariat's pages; anyone else is refused 403 by them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from forum.actions.secretariat import (
    check_group_fields,
    do_create_group,
    do_decide_family_request,
    do_edit_action_line,
    do_edit_group,
)
from forum.db.queries import list_pending_family_requests
from forum.domain.structure import check_keep_structure
from forum.web.api_profile import family_request_json
from forum.web.api_structure import groups_json
from forum.web.http import app_state, db, json_response, read_json, require_principal
from forum.web.openapi import ApiRouter
from forum.web.schemas import ActionLineOut, GroupOut
from forum.web.schemas_profile import (
    ActionLineEditBody,
    DecisionBody,
    FamilyRequestList,
    FamilyRequestOut,
    GroupCreateBody,
    GroupEditBody,
)

router = ApiRouter(tag="secretariat")


@router.route(
    "POST",
    "/groups",
    summary="Make a group, with its room (secretariat)",
    body=GroupCreateBody,
    response=GroupOut,
    status=201,
    auth="required",
    errors=(409,),
)
async def create_group(request: Request) -> Response:
    caller = await require_principal(request)
    check_keep_structure(is_secretariat=caller.user.is_secretariat)
    body = await read_json(request, GroupCreateBody)
    fields = check_group_fields(
        name=body.name,
        description=body.description,
        region=body.region or "",
        action_lines=body.action_lines,
    )
    async with db(request) as session:
        group = await do_create_group(
            session,
            actor=caller.user,
            slug=body.slug,
            kind=str(body.kind),
            family=str(body.family),
            fields=fields,
        )
        [data] = await groups_json(session, [group])
    return json_response(data, status=201)


@router.route(
    "PATCH",
    "/groups/{slug}",
    summary="Edit a group's name, description, region and action lines (secretariat)",
    body=GroupEditBody,
    response=GroupOut,
    auth="required",
)
async def edit_group(request: Request) -> Response:
    caller = await require_principal(request)
    check_keep_structure(is_secretariat=caller.user.is_secretariat)
    body = await read_json(request, GroupEditBody)
    fields = check_group_fields(
        name=body.name,
        description=body.description,
        region=body.region or "",
        action_lines=body.action_lines,
    )
    async with db(request) as session:
        group = await do_edit_group(
            session,
            app_state(request)["broker"],
            actor=caller.user,
            slug=request.path_params["slug"],
            fields=fields,
        )
        [data] = await groups_json(session, [group])
    return json_response(data)


@router.route(
    "PATCH",
    "/action-lines/{code}",
    summary="Edit an action line's or theme's title, description, facilitators (secretariat)",
    body=ActionLineEditBody,
    response=ActionLineOut,
    auth="required",
)
async def edit_action_line(request: Request) -> Response:
    caller = await require_principal(request)
    check_keep_structure(is_secretariat=caller.user.is_secretariat)
    body = await read_json(request, ActionLineEditBody)
    async with db(request) as session:
        line = await do_edit_action_line(
            session,
            app_state(request)["broker"],
            actor=caller.user,
            code=request.path_params["code"],
            title=body.title,
            description=body.description,
            facilitators="\n".join(name.replace("\n", " ") for name in body.facilitators),
        )
    return json_response(line.wire())


@router.route(
    "GET",
    "/secretariat/family-requests",
    summary="The changes of stakeholder family waiting for a decision (secretariat)",
    response=FamilyRequestList,
    auth="required",
)
async def family_requests(request: Request) -> Response:
    caller = await require_principal(request)
    check_keep_structure(is_secretariat=caller.user.is_secretariat)
    async with db(request) as session:
        pending = await list_pending_family_requests(session)
    return json_response({"requests": [family_request_json(asked) for asked, _ in pending]})


@router.route(
    "POST",
    "/secretariat/family-requests/{request_id:id}",
    summary="Approve or refuse a change of stakeholder family (secretariat)",
    body=DecisionBody,
    response=FamilyRequestOut,
    auth="required",
)
async def decide_family_request(request: Request) -> Response:
    caller = await require_principal(request)
    check_keep_structure(is_secretariat=caller.user.is_secretariat)
    body = await read_json(request, DecisionBody)
    async with db(request) as session:
        asked = await do_decide_family_request(
            session,
            app_state(request)["broker"],
            actor=caller.user,
            request_id=request.path_params["request_id"],
            approve=body.decision == "approve",
        )
    return json_response(family_request_json(asked))
