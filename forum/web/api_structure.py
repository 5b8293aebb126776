"""The WSIS structure over JSON: action lines, themes, groups and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from forum.actions.groups import do_join_group, do_leave_group, do_set_member_role
from forum.db.models import Group
from forum.db.queries import (
    get_action_line,
    group_action_line_codes,
    list_action_lines,
    list_groups,
    list_members,
    member_counts,
    require_group,
)
from forum.domain.vocabulary import ActionLineKind, Family, GroupKind, Role
from forum.errors import N_, ErrorCode, ForumError
from forum.web.http import app_state, db, json_response, read_json, require_principal
from forum.web.locale import browser_reader
from forum.web.openapi import ApiRouter, one_of
from forum.web.schemas import (
    ActionLineList,
    ActionLineOut,
    GroupDetail,
    GroupList,
    Health,
    JoinBody,
    MembershipOut,
    RoleBody,
)

router = ApiRouter(tag="structure")
operations = ApiRouter(tag="operations", prefix="")


def _enum_param(request: Request, name: str, allowed: type[Any]) -> str | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if value not in {item.value for item in allowed}:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Unknown {name} '{value}'."),
            field=name,
            params={"name": name, "value": value},
        )
    return value


@operations.route(
    "GET",
    "/healthz",
    summary="Up, with the database and the broker reachable; 503 says which is down",
    response=Health,
    errors=(503,),
)
async def health(request: Request) -> Response:
    parts = {"database": "ok", "broker": "ok"}
    try:
        async with db(request) as session:
            await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        parts["database"] = "down"
    if not await app_state(request)["broker"].healthy():
        parts["broker"] = "down"
    down = [name for name, value in parts.items() if value == "down"]
    if not down:
        return json_response({"status": "ok", **parts})
    # An error body, as every 503 is, with the state of each part beside it.
    error = ForumError(
        ErrorCode.UNAVAILABLE,
        N_("Down: {parts}."),
        params={"parts": ", ".join(down)},
        retry_after=5,
    )
    # In the browser's language: the reader's profile may be in the database that is down.
    body = {"status": "degraded", **parts, "error": error.body(browser_reader(request).gettext)}
    return json_response(body, status=503, headers={"Retry-After": "5"})


@router.route(
    "GET",
    "/action-lines",
    summary="Action lines C1-C11 and cross-cutting themes",
    response=ActionLineList,
    query=[("kind", "action_line or theme", one_of(ActionLineKind))],
)
async def action_lines(request: Request) -> Response:
    kind = _enum_param(request, "kind", ActionLineKind)
    async with db(request) as session:
        lines = await list_action_lines(session, kind)
    return json_response({"action_lines": [line.wire() for line in lines]})


@router.route(
    "GET",
    "/action-lines/{code}",
    summary="One action line or theme",
    response=ActionLineOut,
    errors=(404,),
)
async def action_line(request: Request) -> Response:
    async with db(request) as session:
        line = await get_action_line(session, request.path_params["code"])
    if line is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such action line or theme."))
    return json_response(line.wire())


async def groups_json(session: AsyncSession, groups: Sequence[Group]) -> list[dict[str, Any]]:
    ids = [g.id for g in groups]
    codes = await group_action_line_codes(session, ids)
    counts = await member_counts(session, ids)
    return [
        {
            "slug": g.slug,
            "name": g.name,
            "kind": g.kind,
            "family": g.family,
            "region": g.region,
            "description": g.description,
            "action_lines": codes[g.id],
            "member_count": counts[g.id],
        }
        for g in groups
    ]


@router.route(
    "GET",
    "/groups",
    summary="Groups: working groups, caucuses, bureaus, teams",
    response=GroupList,
    query=[
        ("kind", "group kind", one_of(GroupKind)),
        ("family", "stakeholder family", one_of(Family)),
        ("action_line", "code of an action line or theme the group follows"),
    ],
)
async def groups(request: Request) -> Response:
    kind = _enum_param(request, "kind", GroupKind)
    family = _enum_param(request, "family", Family)
    line = request.query_params.get("action_line")
    async with db(request) as session:
        found = await list_groups(session, kind=kind, family=family, action_line=line)
        return json_response({"groups": await groups_json(session, found)})


@router.route(
    "GET", "/groups/{slug}", summary="A group and its members", response=GroupDetail, errors=(404,)
)
async def group_detail(request: Request) -> Response:
    async with db(request) as session:
        group = await require_group(session, request.path_params["slug"])
        [data] = await groups_json(session, [group])
        members = await list_members(session, group.id)
    data["members"] = [{"user": user.public(), "role": m.role} for m, user in members]
    return json_response(data)


@router.route(
    "POST",
    "/groups/{slug}/join",
    summary="Join a group (member of one's own family's groups, observer of others')",
    body=JoinBody,
    response=MembershipOut,
    status=201,
    auth="required",
    errors=(404, 409),
)
async def join(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, JoinBody)
    slug: str = request.path_params["slug"]
    async with db(request) as session:
        membership = await do_join_group(
            session,
            app_state(request)["broker"],
            user=caller.user,
            slug=slug,
            role=Role(body.role) if body.role else None,
        )
    return json_response(
        {"group": slug, "user_id": caller.user.id, "role": membership.role}, status=201
    )


@router.route(
    "POST",
    "/groups/{slug}/leave",
    summary="Leave a group",
    status=204,
    auth="required",
    errors=(404,),
)
async def leave(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        await do_leave_group(
            session,
            app_state(request)["broker"],
            user=caller.user,
            slug=request.path_params["slug"],
        )
    return Response(status_code=204)


@router.route(
    "PUT",
    "/groups/{slug}/members/{user_id:id}",
    summary="Add a member or change a role (secretariat, or the group's chair)",
    body=RoleBody,
    response=MembershipOut,
    auth="required",
    errors=(404, 409),
)
async def set_member(request: Request) -> Response:
    await require_principal(request)  # who asks comes before what they send
    body = await read_json(request, RoleBody)
    slug, user_id = await _manage_member(request, body.role)
    return json_response({"group": slug, "user_id": user_id, "role": body.role})


@router.route(
    "DELETE",
    "/groups/{slug}/members/{user_id:id}",
    summary="Remove a member (secretariat, or the group's chair)",
    status=204,
    auth="required",
    errors=(404, 409),
)
async def remove_member(request: Request) -> Response:
    await _manage_member(request, None)
    return Response(status_code=204)


async def _manage_member(request: Request, role: Role | None) -> tuple[str, int]:
    """Set (or, with None, remove) a member's role as the caller: the action decides."""
    caller = await require_principal(request)
    slug: str = request.path_params["slug"]
    user_id: int = request.path_params["user_id"]
    async with db(request) as session:
        await do_set_member_role(
            session,
            app_state(request)["broker"],
            actor=caller.user,
            slug=slug,
            user_id=user_id,
            role=role,
        )
    return slug, user_id
