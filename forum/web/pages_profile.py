"""The profile page: one's details, language and time zone, password, sessions, the
request to change one's stakeholder family, and one's private calendar address.

Each part is a form of its own posting to its own address; a refusal shows the page
again with the message beside the field of that form and what was typed kept (never
a password); a write redirects (303), so that reloading never posts twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.calendar_keys import do_make_calendar_key, do_revoke_calendar_key
from forum.actions.profile import (
    check_profile,
    do_change_password,
    do_request_family_change,
    do_sign_out_everywhere,
    do_update_profile,
    do_withdraw_family_request,
)
from forum.auth import SESSION_COOKIE, Principal
from forum.db.queries import pending_family_request
from forum.errors import N_, ErrorCode, ForumError
from forum.i18n.catalogs import LANGUAGES
from forum.i18n.reader import time_zones
from forum.limits import Limit
from forum.passwords import MAX_LENGTH, MIN_LENGTH, hasher_for
from forum.web.calendars import my_calendar_address
from forum.web.forms import field, read_form
from forum.web.http import app_state, db, principal
from forum.web.locale import reader
from forum.web.pages import countries, page_context
from forum.web.templates import render

DETAILS = ("display_name", "organization", "country", "language", "time_zone")


async def _signed_in(request: Request) -> Principal:
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    return caller


def _zones() -> list[str]:
    # Region/City names only: the IANA list also holds aliases ("US/Eastern", "GMT+3")
    # that would double every entry of the menu.
    return sorted(z for z in time_zones() if "/" in z and not z.startswith(("Etc/", "US/")))


async def _page(
    request: Request,
    *,
    form: str | None = None,
    values: dict[str, str] | None = None,
    error: ForumError | None = None,
    status: int = 200,
) -> Response:
    caller = await _signed_in(request)
    user = caller.user
    async with db(request) as session:
        pending = await pending_family_request(session, user.id)
    details = {
        "display_name": user.display_name,
        "organization": user.organization,
        "country": user.country,
        "language": user.language or "",
        "time_zone": user.time_zone or "",
    }
    return render(
        request,
        "profile/profile.html",
        await page_context(
            request,
            user=user,
            pending=pending,
            form=form,
            values={**details, **(values or {})},
            error=error,
            countries=countries(await reader(request)),
            languages_offered=LANGUAGES,
            zones=_zones(),
            min_password=MIN_LENGTH,
            max_password=MAX_LENGTH,
            notice=request.query_params.get("done"),
            calendar_address=await my_calendar_address(request, user.id),
        ),
        status=status,
    )


async def profile_page(request: Request) -> Response:
    return await _page(request)


def _done(what: str) -> Response:
    return RedirectResponse(f"/profile?done={what}", status_code=303)


async def details_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    values = {name: field(form, name) for name in DETAILS}
    try:
        change = check_profile(**values)
        async with db(request) as session:
            await do_update_profile(session, app_state(request)["broker"], caller.user.id, change)
    except ForumError as error:
        return await _page(request, form="details", values=values, error=error, status=error.status)
    return _done("details")


async def password_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    state = app_state(request)
    settings = state["settings"]
    try:
        async with db(request) as session:
            await do_change_password(
                session,
                state["broker"],
                state["limiter"],
                Limit(
                    f"password:account:{caller.user.id}",
                    settings.login_attempts,
                    settings.login_window,
                ),
                user=caller.user,
                current=field(form, "current_password"),
                new=field(form, "password"),
                keep_session_id=caller.session_id,
                passwords=hasher_for(settings),
            )
    except ForumError as error:
        return await _page(request, form="password", error=error, status=error.status)
    return _done("password")


async def sign_out_everywhere_form(request: Request) -> Response:
    await read_form(request)
    caller = await _signed_in(request)
    async with db(request) as session:
        await do_sign_out_everywhere(session, app_state(request)["broker"], user_id=caller.user.id)
    response = RedirectResponse("/login?next=/profile", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def family_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    family = field(form, "family")
    try:
        async with db(request) as session:
            await do_request_family_change(session, user_id=caller.user.id, family=family)
    except ForumError as error:
        values: dict[str, Any] = {"family": family}
        return await _page(request, form="family", values=values, error=error, status=error.status)
    return _done("family")


def _button(
    act: Callable[..., Awaitable[object]], done: str
) -> Callable[[Request], Awaitable[Response]]:
    """A form that is only a button: `act` for the signed-in person, then back to the
    profile saying `done`."""

    async def form(request: Request) -> Response:
        await read_form(request)
        caller = await _signed_in(request)
        async with db(request) as session:
            await act(session, user_id=caller.user.id)
        return _done(done)

    return form


withdraw_family_form = _button(do_withdraw_family_request, "withdrawn")
calendar_form = _button(do_make_calendar_key, "calendar")
revoke_calendar_form = _button(do_revoke_calendar_key, "calendar-revoked")


routes = [
    Route("/profile", profile_page, methods=["GET"]),
    Route("/profile", details_form, methods=["POST"]),
    Route("/profile/password", password_form, methods=["POST"]),
    Route("/profile/sign-out-everywhere", sign_out_everywhere_form, methods=["POST"]),
    Route("/profile/family", family_form, methods=["POST"]),
    Route("/profile/family/withdraw", withdraw_family_form, methods=["POST"]),
    Route("/profile/calendar", calendar_form, methods=["POST"]),
    Route("/profile/calendar/revoke", revoke_calendar_form, methods=["POST"]),
]
