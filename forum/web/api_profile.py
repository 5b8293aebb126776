"""One's own profile over JSON: details, language and time zone, password, signing out
everywhere, and the request to change one's stakeholder family. The same actions as
the profile page (`pages_profile`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum.actions.profile import (
    check_profile,
    do_change_password,
    do_request_family_change,
    do_sign_out_everywhere,
    do_update_profile,
    do_withdraw_family_request,
)
from forum.auth import SESSION_COOKIE
from forum.db.models import FamilyRequest, User
from forum.db.queries import pending_family_request
from forum.limits import Limit
from forum.passwords import hasher_for
from forum.web.api_accounts import me_json
from forum.web.http import app_state, db, json_response, read_json, require_principal
from forum.web.openapi import ApiRouter
from forum.web.schemas import Me
from forum.web.schemas_profile import (
    FamilyBody,
    FamilyRequestOut,
    FamilyRequestState,
    PasswordBody,
    ProfileBody,
)

router = ApiRouter(tag="profile")


def family_request_json(asked: FamilyRequest) -> dict[str, Any]:
    return {
        "id": asked.id,
        "user_id": asked.user_id,
        "family": asked.family,
        "previous": asked.previous,
        "status": asked.status,
        "created_at": asked.created_at.isoformat(),
        "decided_at": asked.decided_at.isoformat() if asked.decided_at else None,
    }


@router.route(
    "PATCH",
    "/me",
    summary="Change one's display name, organization, country, language or time zone",
    body=ProfileBody,
    response=Me,
    auth="required",
)
async def edit_me(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, ProfileBody)
    user = caller.user
    given = body.model_dump(exclude_unset=True)
    change = check_profile(
        display_name=_given(given, "display_name", user.display_name),
        organization=_given(given, "organization", user.organization),
        country=_given(given, "country", user.country),
        language=_given(given, "language", user.language),
        time_zone=_given(given, "time_zone", user.time_zone),
    )
    async with db(request) as session:
        await do_update_profile(session, app_state(request)["broker"], user.id, change)
        fresh = await session.get(User, user.id)
        assert fresh is not None  # noqa: S101 - the caller's own row, just written
    return json_response(await me_json(request, fresh))


def _given(given: dict[str, Any], name: str, current: str | None) -> str:
    value = given.get(name, current)
    return value or ""


@router.route(
    "POST",
    "/me/password",
    summary="Change one's password (the current one required); other sessions end",
    body=PasswordBody,
    status=204,
    auth="required",
    errors=(429,),
)
async def change_password(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, PasswordBody)
    state = app_state(request)
    settings = state["settings"]
    async with db(request) as session:
        await do_change_password(
            session,
            state["broker"],
            state["limiter"],
            Limit(
                f"password:account:{caller.user.id}", settings.login_attempts, settings.login_window
            ),
            user=caller.user,
            current=body.current_password,
            new=body.password,
            keep_session_id=caller.session_id,
            passwords=hasher_for(settings),
        )
    return Response(status_code=204)


@router.route(
    "POST",
    "/auth/logout-everywhere",
    summary="End every session of the account: browsers, tokens, open WebSockets",
    auth="required",
    status=204,
)
async def logout_everywhere(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        await do_sign_out_everywhere(session, app_state(request)["broker"], user_id=caller.user.id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.route(
    "GET",
    "/me/family-request",
    summary="One's pending request to change stakeholder family, if any",
    response=FamilyRequestState,
    auth="required",
)
async def my_family_request(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        pending = await pending_family_request(session, caller.user.id)
    return json_response({"request": family_request_json(pending) if pending else None})


@router.route(
    "POST",
    "/me/family-request",
    summary="Ask the secretariat to count one in another stakeholder family",
    body=FamilyBody,
    response=FamilyRequestOut,
    status=201,
    auth="required",
)
async def ask_family_change(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, FamilyBody)
    async with db(request) as session:
        asked = await do_request_family_change(
            session, user_id=caller.user.id, family=str(body.family)
        )
    return json_response(family_request_json(asked), status=201)


@router.route(
    "DELETE",
    "/me/family-request",
    summary="Withdraw one's pending request to change stakeholder family",
    status=204,
    auth="required",
    errors=(404,),
)
async def withdraw_family_change(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        await do_withdraw_family_request(session, user_id=caller.user.id)
    return Response(status_code=204)
