"""The secretariat's pages for groups: make and edit them, and appoint their members.

Only the secretariat sees them: every page and form asks `secretariat()` first, which
refuses anyone else with 403 (401 signed out) before anything is read or written, and
the actions check again. A refusal of a form shows the page again with the message
beside its field and what was typed kept; a write redirects (303).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.accounts import normalize_email
from forum.actions.groups import do_set_member_role
from forum.actions.secretariat import check_group_fields, do_create_group, do_edit_group
from forum.auth import Principal
from forum.db.queries import (
    get_user_by_email,
    group_action_line_codes,
    list_action_lines,
    list_groups,
    list_members,
    list_pending_family_requests,
    member_counts,
    require_group,
)
from forum.domain.structure import check_keep_structure
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError
from forum.web.forms import field, read_form
from forum.web.http import app_state, db, principal
from forum.web.labels import GROUP_KINDS, REGION_NAMES, ROLES
from forum.web.pages import page_context
from forum.web.templates import render

GROUP_FIELDS = ("slug", "name", "kind", "family", "region", "description")


async def secretariat(request: Request) -> Principal:
    """The caller, when a member of the secretariat; anyone else is refused."""
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    check_keep_structure(is_secretariat=caller.user.is_secretariat)
    return caller


async def secretariat_form(request: Request) -> tuple[Principal, FormData]:
    """A form of these pages: CSRF-checked, then the secretariat only."""
    form = await read_form(request)
    return await secretariat(request), form


async def context(request: Request, **values: Any) -> dict[str, Any]:
    return await page_context(
        request, kinds=GROUP_KINDS, roles=ROLES, regions=REGION_NAMES, **values
    )


async def index(request: Request) -> Response:
    await secretariat(request)
    async with db(request) as session:
        pending = await list_pending_family_requests(session)
    return render(
        request, "secretariat/index.html", await context(request, pending_count=len(pending))
    )


async def _groups_page(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    error: ForumError | None = None,
    status: int = 200,
) -> Response:
    async with db(request) as session:
        groups = await list_groups(session)
        counts = await member_counts(session, [g.id for g in groups])
        lines = await list_action_lines(session)
    return render(
        request,
        "secretariat/groups.html",
        await context(
            request,
            groups=groups,
            counts=counts,
            lines=lines,
            form="group",
            values=values or {"action_lines": []},
            error=error,
        ),
        status=status,
    )


async def groups_page(request: Request) -> Response:
    await secretariat(request)
    return await _groups_page(request)


def _group_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: field(form, name) for name in GROUP_FIELDS}
    values["action_lines"] = [v for v in form.getlist("action_lines") if isinstance(v, str)]
    return values


async def create_group_form(request: Request) -> Response:
    caller, form = await secretariat_form(request)
    values = _group_values(form)
    try:
        fields = check_group_fields(
            name=values["name"],
            description=values["description"],
            region=values["region"],
            action_lines=values["action_lines"],
        )
        async with db(request) as session:
            group = await do_create_group(
                session,
                actor=caller.user,
                slug=values["slug"],
                kind=values["kind"],
                family=values["family"],
                fields=fields,
            )
    except ForumError as error:
        return await _groups_page(request, values=values, error=error, status=error.status)
    return RedirectResponse(f"/secretariat/groups/{group.slug}?done=created", status_code=303)


async def _group_page(
    request: Request,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    error: ForumError | None = None,
    status: int = 200,
) -> Response:
    async with db(request) as session:
        group = await require_group(session, request.path_params["slug"])
        codes = (await group_action_line_codes(session, [group.id]))[group.id]
        members = await list_members(session, group.id)
        lines = await list_action_lines(session)
    current = {
        "name": group.name,
        "description": group.description,
        "region": group.region or "",
        "action_lines": codes,
    }
    return render(
        request,
        "secretariat/group.html",
        await context(
            request,
            group=group,
            members=members,
            lines=lines,
            form=form,
            values={**current, **(values or {})} if form == "group" else current,
            member_values=values if form == "member" else {},
            error=error,
            notice=request.query_params.get("done"),
        ),
        status=status,
    )


async def group_page(request: Request) -> Response:
    await secretariat(request)
    return await _group_page(request)


async def edit_group_form(request: Request) -> Response:
    caller, form = await secretariat_form(request)
    values = _group_values(form)
    slug = request.path_params["slug"]
    try:
        fields = check_group_fields(
            name=values["name"],
            description=values["description"],
            region=values["region"],
            action_lines=values["action_lines"],
        )
        async with db(request) as session:
            await do_edit_group(
                session, app_state(request)["broker"], actor=caller.user, slug=slug, fields=fields
            )
    except ForumError as error:
        return await _group_page(
            request, form="group", values=values, error=error, status=error.status
        )
    return RedirectResponse(f"/secretariat/groups/{slug}?done=saved", status_code=303)


def _role(value: str) -> Role | None:
    """A role of the form; "remove" is none."""
    if value == "remove":
        return None
    try:
        return Role(value)
    except ValueError:
        raise ForumError(ErrorCode.VALIDATION, N_("Choose a role."), field="role") from None


async def _set_role(request: Request, caller: Principal, user_id: int, role: Role | None) -> str:
    slug: str = request.path_params["slug"]
    async with db(request) as session:
        await do_set_member_role(
            session,
            app_state(request)["broker"],
            actor=caller.user,
            slug=slug,
            user_id=user_id,
            role=role,
        )
    return slug


async def add_member_form(request: Request) -> Response:
    """Appoint someone by their email, in any role (a chair included)."""
    caller, form = await secretariat_form(request)
    values = {"email": field(form, "email"), "role": field(form, "role")}
    try:
        role = _role(values["role"])
        if role is None:
            raise ForumError(ErrorCode.VALIDATION, N_("Choose a role."), field="role")
        async with db(request) as session:
            person = await get_user_by_email(session, normalize_email(values["email"])[:254])
        if person is None:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No account has this email."), field="email")
        slug = await _set_role(request, caller, person.id, role)
    except ForumError as error:
        return await _group_page(
            request, form="member", values=values, error=error, status=error.status
        )
    return RedirectResponse(f"/secretariat/groups/{slug}?done=member", status_code=303)


async def member_role_form(request: Request) -> Response:
    """Change a member's role, or remove them ("remove")."""
    caller, form = await secretariat_form(request)
    user_id: int = request.path_params["user_id"]
    try:
        slug = await _set_role(request, caller, user_id, _role(field(form, "role")))
    except ForumError as error:
        # Shown beside the member's row: the field names whose row it is.
        error.field = f"member-{user_id}"
        return await _group_page(request, form="roles", error=error, status=error.status)
    return RedirectResponse(f"/secretariat/groups/{slug}?done=member", status_code=303)


routes = [
    Route("/secretariat", index, methods=["GET"]),
    Route("/secretariat/groups", groups_page, methods=["GET"]),
    Route("/secretariat/groups", create_group_form, methods=["POST"]),
    Route("/secretariat/groups/{slug}", group_page, methods=["GET"]),
    Route("/secretariat/groups/{slug}", edit_group_form, methods=["POST"]),
    Route("/secretariat/groups/{slug}/members", add_member_form, methods=["POST"]),
    Route("/secretariat/groups/{slug}/members/{user_id:id}", member_role_form, methods=["POST"]),
]
