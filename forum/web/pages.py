"""Server-rendered pages of the foundation: the list of groups, sign-up and sign-in.

Pages read without JavaScript; forms post with a CSRF token and redirect (303) after a
write, so that reloading never posts twice.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.accounts import check_register, do_login, do_logout, do_register
from forum.auth import SESSION_COOKIE
from forum.db.queries import list_groups
from forum.domain.regions import COUNTRIES
from forum.errors import N_, ForumError
from forum.i18n.reader import Reader
from forum.limits import enforce
from forum.passwords import MAX_LENGTH, MIN_LENGTH, hasher_for
from forum.web.api_accounts import login_policy, set_session_cookies
from forum.web.forms import field, read_form
from forum.web.http import app_state, client_ip, db, principal
from forum.web.labels import FAMILY_NAMES
from forum.web.locale import reader
from forum.web.return_to import local_path
from forum.web.templates import render


def _password_rules() -> dict[str, int]:
    return {"min_password": MIN_LENGTH, "max_password": MAX_LENGTH}


async def page_context(request: Request, **values: Any) -> dict[str, Any]:
    caller = await principal(request)
    return {
        "me": caller.user if caller else None,
        "families": FAMILY_NAMES,
        "reader": await reader(request),
        **values,
    }


async def groups_page(request: Request) -> Response:
    async with db(request) as session:
        groups = await list_groups(session)
    return render(request, "groups.html", await page_context(request, groups=groups))


def countries(shown_to: Reader) -> list[tuple[str, str]]:
    """Each country by its name in the reader's language (CLDR's), in that order."""
    names = shown_to.locale.territories
    named = ((code, names.get(code, english)) for code, (english, _) in COUNTRIES.items())
    return sorted(named, key=lambda c: c[1].casefold())


async def register_page(request: Request) -> Response:
    return render(
        request,
        "register.html",
        await page_context(
            request,
            countries=countries(await reader(request)),
            values={},
            **_password_rules(),
            next=local_path(request.query_params.get("next")),
            error=None,
        ),
    )


async def register_post(request: Request) -> Response:
    form = await read_form(request)
    values = {
        name: field(form, name)
        for name in ("email", "display_name", "family", "organization", "country")
    }
    to = local_path(field(form, "next"))
    try:
        registration = check_register(password=field(form, "password"), **values)
        state = app_state(request)
        await enforce(
            state["limiter"],
            f"register:ip:{client_ip(request)}",
            state["settings"].register_attempts,
            state["settings"].register_window,
            N_("Too many registrations; try again in {seconds} s."),
        )
        async with db(request) as session:
            await do_register(session, registration, passwords=hasher_for(state["settings"]))
    except ForumError as error:
        return render(
            request,
            "register.html",
            await page_context(
                request,
                countries=countries(await reader(request)),
                values=values,
                **_password_rules(),
                next=to,
                error=error,
            ),
            status=error.status,
        )
    return await _sign_in(request, values["email"], field(form, "password"), to)


async def login_page(request: Request) -> Response:
    return render(
        request,
        "login.html",
        await page_context(
            request, email="", next=local_path(request.query_params.get("next")), error=None
        ),
    )


async def login_post(request: Request) -> Response:
    form = await read_form(request)
    email = field(form, "email")
    to = local_path(field(form, "next"))
    try:
        return await _sign_in(request, email, field(form, "password"), to)
    except ForumError as error:
        return render(
            request,
            "login.html",
            await page_context(request, email=email, next=to, error=error),
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
            passwords=hasher_for(settings),
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
    Route("/groups", groups_page, methods=["GET"]),
    # A page and its form's POST are two routes, so HEAD (answered as GET) never reads
    # a form.
    Route("/register", register_page, methods=["GET"]),
    Route("/register", register_post, methods=["POST"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_post, methods=["POST"]),
    Route("/logout", logout_page, methods=["POST"]),
]
