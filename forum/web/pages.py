"""Server-rendered pages of the foundation: the front page, groups, sign-up and sign-in.

Pages read without JavaScript; forms post with a CSRF token and redirect (303) after a
write, so that reloading never posts twice.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.accounts import check_register, do_login, do_logout, do_register
from forum.actions.room_view import list_open_sessions
from forum.auth import CSRF_FIELD, SESSION_COOKIE
from forum.db.queries import (
    get_group,
    group_action_line_codes,
    list_action_lines,
    list_groups,
    list_members,
)
from forum.domain.regions import COUNTRIES
from forum.domain.vocabulary import Family
from forum.errors import ErrorCode, ForumError
from forum.limits import enforce
from forum.web.api_accounts import login_policy, set_session_cookies
from forum.web.http import app_state, check_csrf, client_ip, db, principal, refuse_unstorable
from forum.web.templates import render

FAMILY_NAMES = {
    Family.GOVERNMENT: "Government",
    Family.CIVIL_SOCIETY: "Civil society",
    Family.PRIVATE_SECTOR: "Private sector",
    Family.INTERNATIONAL_ORG: "International organization",
}
_MAX_FORM_BYTES = 256 * 1024


async def page_context(request: Request, **values: Any) -> dict[str, Any]:
    caller = await principal(request)
    return {"me": caller.user if caller else None, "families": FAMILY_NAMES, **values}


async def read_form(request: Request) -> FormData:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _MAX_FORM_BYTES:
        raise ForumError(ErrorCode.TOO_LARGE, "The form is too large.")
    form = await request.form(max_files=0, max_fields=50, max_part_size=_MAX_FORM_BYTES)
    await principal(request)  # who, for the security log, should the check refuse
    value = form.get(CSRF_FIELD)
    check_csrf(request, value if isinstance(value, str) else None)
    for name, item in form.multi_items():  # each pair: a field may come twice
        if isinstance(item, str):
            refuse_unstorable({name: item})
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


async def home(request: Request) -> Response:
    async with db(request) as session:
        lines = await list_action_lines(session)
        groups = await list_groups(session)
        live = await list_open_sessions(session)
    return render(
        request,
        "home.html",
        await page_context(
            request,
            action_lines=[line for line in lines if line.kind == "action_line"],
            themes=[line for line in lines if line.kind == "theme"],
            groups=groups,
            live=live,
        ),
    )


async def groups_page(request: Request) -> Response:
    async with db(request) as session:
        groups = await list_groups(session)
    return render(request, "groups.html", await page_context(request, groups=groups))


async def group_page(request: Request) -> Response:
    async with db(request) as session:
        group = await get_group(session, request.path_params["slug"])
        if group is None:
            raise ForumError(ErrorCode.NOT_FOUND, "No such group.")
        codes = (await group_action_line_codes(session, [group.id]))[group.id]
        members = await list_members(session, group.id)
    return render(
        request,
        "group.html",
        await page_context(request, group=group, codes=codes, members=members),
    )


def _countries() -> list[tuple[str, str]]:
    return sorted(((code, name) for code, (name, _) in COUNTRIES.items()), key=lambda c: c[1])


async def register_page(request: Request) -> Response:
    return render(
        request,
        "register.html",
        await page_context(request, countries=_countries(), values={}, error=None),
    )


async def register_post(request: Request) -> Response:
    form = await read_form(request)
    values = {
        name: field(form, name)
        for name in ("email", "display_name", "family", "organization", "country")
    }
    try:
        registration = check_register(password=field(form, "password"), **values)
        state = app_state(request)
        await enforce(
            state["limiter"],
            f"register:ip:{client_ip(request)}",
            state["settings"].register_attempts,
            state["settings"].register_window,
            "registrations",
        )
        async with db(request) as session:
            await do_register(session, registration)
    except ForumError as error:
        return render(
            request,
            "register.html",
            await page_context(request, countries=_countries(), values=values, error=error),
            status=error.status,
        )
    return await _sign_in(request, values["email"], field(form, "password"), "/")


async def login_page(request: Request) -> Response:
    return render(request, "login.html", await page_context(request, email="", error=None))


async def login_post(request: Request) -> Response:
    form = await read_form(request)
    email = field(form, "email")
    try:
        return await _sign_in(request, email, field(form, "password"), "/")
    except ForumError as error:
        return render(
            request,
            "login.html",
            await page_context(request, email=email, error=error),
            status=error.status,
        )


async def _sign_in(request: Request, email: str, password: str, to: str) -> Response:
    state = app_state(request)
    settings = state["settings"]
    async with db(request) as session:
        signed_in = await do_login(
            session,
            state["limiter"],
            email=email,
            password=password,
            client_ip=client_ip(request),
            kind="cookie",
            max_age=settings.session_max_age,
            policy=login_policy(settings),
        )
    response = RedirectResponse(to, status_code=303)
    set_session_cookies(request, response, signed_in)
    return response


async def logout_page(request: Request) -> Response:
    await read_form(request)
    caller = await principal(request)
    if caller is not None:
        async with db(request) as session:
            await do_logout(
                session,
                app_state(request)["broker"],
                user_id=caller.user.id,
                session_id=caller.session_id,
            )
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/", home, methods=["GET"]),
    Route("/groups", groups_page, methods=["GET"]),
    Route("/groups/{slug}", group_page, methods=["GET"]),
    # A page and its form's POST are two routes, so HEAD (answered as GET) never reads
    # a form.
    Route("/register", register_page, methods=["GET"]),
    Route("/register", register_post, methods=["POST"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_post, methods=["POST"]),
    Route("/logout", logout_page, methods=["POST"]),
]
