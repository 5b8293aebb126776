"""Accounts over JSON: register, sign in (cookie or bearer token), sign out, who am I."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from forum import csrf
from forum.actions.accounts import (
    LoginPolicy,
    SignIn,
    check_register,
    do_login,
    do_logout,
    do_register,
)
from forum.auth import CSRF_COOKIE, SESSION_COOKIE, sign
from forum.db.models import User
from forum.db.queries import memberships_of
from forum.errors import N_
from forum.limits import enforce
from forum.passwords import hasher_for
from forum.settings import Settings
from forum.web.http import (
    app_state,
    check_origin,
    client_ip,
    db,
    json_response,
    read_json,
    require_principal,
    secure_cookies,
)
from forum.web.openapi import ApiRouter
from forum.web.schemas import LoginBody, Me, RegisterBody, SignedIn, TokenOut

router = ApiRouter(tag="accounts")


async def me_json(request: Request, user: User) -> dict[str, object]:
    async with db(request) as session:
        memberships = await memberships_of(session, user.id)
    return {
        **user.public(),
        "email": user.email,
        "is_secretariat": user.is_secretariat,
        "memberships": [
            {"slug": g.slug, "name": g.name, "kind": g.kind, "role": m.role} for m, g in memberships
        ],
    }


@router.route(
    "POST",
    "/accounts",
    summary="Register an account",
    body=RegisterBody,
    response=Me,
    status=201,
    errors=(409, 429),
)
async def register(request: Request) -> Response:
    check_origin(request)
    state = app_state(request)
    settings = state["settings"]
    body = await read_json(request, RegisterBody)
    registration = check_register(**body.model_dump())
    await enforce(
        state["limiter"],
        f"register:ip:{client_ip(request)}",
        settings.register_attempts,
        settings.register_window,
        N_("Too many registrations; try again in {seconds} s."),
    )
    async with db(request) as session:
        user = await do_register(session, registration, passwords=hasher_for(settings))
    return json_response(await me_json(request, user), status=201)


async def _login(request: Request, kind: str) -> SignIn:
    check_origin(request)
    state = app_state(request)
    settings = state["settings"]
    body = await read_json(request, LoginBody)
    async with db(request) as session:
        return await do_login(
            session,
            state["limiter"],
            email=body.email,
            password=body.password,
            client_ip=client_ip(request),
            kind=kind,
            max_age=settings.session_max_age,
            policy=login_policy(settings),
            passwords=hasher_for(settings),
        )


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        attempts=settings.login_attempts,
        account_attempts=settings.login_account_attempts,
        address_attempts=settings.login_ip_attempts,
        window=settings.login_window,
    )


def csrf_token_of(request: Request, signed_in: SignIn) -> str:
    return csrf.session_token(app_state(request)["settings"].secret_key, signed_in.token)


def set_session_cookies(request: Request, response: Response, signed_in: SignIn) -> None:
    """Set the new session cookie. The CSRF token is the new session's (forum/csrf.py),
    so it rotates with it; the pre-session nonce is of no more use."""
    settings = app_state(request)["settings"]
    response.set_cookie(
        SESSION_COOKIE,
        sign(settings.secret_key, "session", signed_in.token),
        max_age=settings.session_max_age,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.delete_cookie(
        CSRF_COOKIE, httponly=True, samesite="lax", secure=secure_cookies(request), path="/"
    )


@router.route(
    "POST",
    "/auth/login",
    summary="Sign in with a session cookie",
    body=LoginBody,
    response=SignedIn,
    errors=(401, 429),
)
async def login(request: Request) -> Response:
    signed_in = await _login(request, "cookie")
    # The CSRF token goes in the body: scripts cannot read the HttpOnly session cookie.
    response = json_response(
        {
            "user": await me_json(request, signed_in.user),
            "csrf_token": csrf_token_of(request, signed_in),
        }
    )
    set_session_cookies(request, response, signed_in)
    return response


@router.route(
    "POST",
    "/auth/token",
    summary="Get a bearer token for an API client",
    body=LoginBody,
    response=TokenOut,
    status=201,
    errors=(401, 429),
)
async def token(request: Request) -> Response:
    signed_in = await _login(request, "bearer")
    return json_response(
        {"token": signed_in.token, "user": await me_json(request, signed_in.user)}, status=201
    )


@router.route(
    "POST",
    "/auth/logout",
    summary="End this session (cookie or token)",
    auth="required",
    status=204,
)
async def logout(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        await do_logout(
            session,
            app_state(request)["broker"],
            user_id=caller.user.id,
            session_id=caller.session_id,
        )
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.route("GET", "/me", summary="The signed-in account", response=Me, auth="required")
async def me(request: Request) -> Response:
    caller = await require_principal(request)
    return json_response(await me_json(request, caller.user))
