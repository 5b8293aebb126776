"""The forms of a group's page: join, leave, give a member a role, remove a member.

Each posts with the CSRF token and calls the same action as the JSON API
(forum/web/api_structure.py), which checks the permission table; a write redirects
(303) back to the group's page, so that reloading never posts twice. A refusal shows
the page again with the message beside the form that was sent, and changes nothing.

Leaving and removing someone ask first: their links lead to a confirmation page, and
a POST without `confirm` shows that page instead of acting, so no stale form or
single click takes anyone out of a group.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.groups import do_join_group, do_leave_group, do_set_member_role
from forum.db.models import User
from forum.db.queries import get_membership, require_group
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError
from forum.web.forms import field, read_form
from forum.web.http import app_state, db
from forum.web.pages import page_context
from forum.web.pages_group import render_group, require_signed_in
from forum.web.templates import render


def _back(slug: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/groups/{slug}{anchor}", status_code=303)


def _member_id(request: Request) -> int:
    # The `id` convertor has parsed and bounded it already.
    user_id: int = request.path_params["user_id"]
    return user_id


async def join_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await require_signed_in(request)
    slug = request.path_params["slug"]
    # Someone may choose to only observe; any other role is the one joining gives.
    asked = Role.OBSERVER if field(form, "role") == Role.OBSERVER.value else None
    try:
        async with db(request) as session:
            await do_join_group(
                session, app_state(request)["broker"], user=caller.user, slug=slug, role=asked
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await render_group(request, error=error, error_at="join", status=error.status)
    return _back(slug, "#membership")


async def _confirm_page(request: Request, *, member: User | None = None) -> Response:
    async with db(request) as session:
        group = await require_group(session, request.path_params["slug"])
    return render(
        request,
        "overview/group_confirm.html",
        await page_context(request, group=group, member=member),
    )


async def leave_page(request: Request) -> Response:
    await require_signed_in(request)
    return await _confirm_page(request)


async def leave_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await require_signed_in(request)
    slug = request.path_params["slug"]
    if field(form, "confirm") != "1":
        return await _confirm_page(request)
    try:
        async with db(request) as session:
            await do_leave_group(session, app_state(request)["broker"], user=caller.user, slug=slug)
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await render_group(request, error=error, error_at="leave", status=error.status)
    return _back(slug)


async def _set_role(request: Request, role: Role | None) -> Response:
    """Give `role` to the member of the path (None: remove them), as the caller."""
    caller = await require_signed_in(request)
    slug = request.path_params["slug"]
    user_id = _member_id(request)
    try:
        async with db(request) as session:
            await do_set_member_role(
                session,
                app_state(request)["broker"],
                actor=caller.user,
                slug=slug,
                user_id=user_id,
                role=role,
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND and error.field is None:
            raise
        return await render_group(
            request, error=error, error_at=f"member-{user_id}", status=error.status
        )
    return _back(slug, f"#member-{user_id}")


async def role_form(request: Request) -> Response:
    form = await read_form(request)
    await require_signed_in(request)
    try:
        role = Role(field(form, "role"))
    except ValueError:
        error = ForumError(ErrorCode.VALIDATION, N_("Choose one of the roles."), field="role")
        member = f"member-{_member_id(request)}"
        return await render_group(request, error=error, error_at=member, status=error.status)
    return await _set_role(request, role)


async def remove_page(request: Request) -> Response:
    await require_signed_in(request)
    async with db(request) as session:
        group = await require_group(session, request.path_params["slug"])
        membership = await get_membership(session, group.id, _member_id(request))
        member = await session.get(User, _member_id(request)) if membership else None
    if member is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("This person is not a member of the group."))
    return await _confirm_page(request, member=member)


async def remove_form(request: Request) -> Response:
    form = await read_form(request)
    await require_signed_in(request)
    if field(form, "confirm") != "1":
        return await remove_page(request)
    return await _set_role(request, None)


routes = [
    Route("/groups/{slug}/join", join_form, methods=["POST"]),
    Route("/groups/{slug}/leave", leave_page, methods=["GET"]),
    Route("/groups/{slug}/leave", leave_form, methods=["POST"]),
    Route("/groups/{slug}/members/{user_id:id}/role", role_form, methods=["POST"]),
    Route("/groups/{slug}/members/{user_id:id}/remove", remove_page, methods=["GET"]),
    Route("/groups/{slug}/members/{user_id:id}/remove", remove_form, methods=["POST"]),
]
