"""The transcript page with its record: minutes and follow-ups, and the forms by which
the chairs of the groups taking part keep them.

Plain HTML forms with the CSRF token; a refusal shows the page again with the message
beside the field of the form it came from and what was typed kept; a write redirects
(303) to the record. The actions decide who may: a forged form from anyone else is
refused by them (403), and nothing is written.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.minutes import (
    FollowUpInput,
    do_add_follow_up,
    do_update_follow_up,
    do_write_minutes,
    get_record,
)
from forum.actions.room_reads import get_transcript
from forum.auth import Principal
from forum.domain.minutes import FollowUpStatus, parse_due, parse_status
from forum.errors import N_, ErrorCode, ForumError
from forum.web.forms import field, read_form
from forum.web.http import db, principal
from forum.web.pages import page_context
from forum.web.templates import render

FOLLOW_UP_FIELDS = ("item", "owner", "due", "status", "version")
STATUS_NAMES = {
    FollowUpStatus.OPEN: N_("open"),
    FollowUpStatus.IN_PROGRESS: N_("in progress"),
    FollowUpStatus.DONE: N_("done"),
    FollowUpStatus.DROPPED: N_("dropped"),
}
# What the list of changes calls each field of a follow-up.
FIELD_NAMES = {
    "item": N_("item"),
    "owner_group_id": N_("owner"),
    "due": N_("due date"),
    "status": N_("status"),
}


async def render_transcript(
    request: Request,
    session_id: int,
    *,
    form: str | None = None,
    values: dict[str, str] | None = None,
    error: ForumError | None = None,
) -> Response:
    caller = await principal(request)
    async with db(request) as session:
        document = await get_transcript(session, session_id)
        record = await get_record(session, session_id, user=caller.user if caller else None)
    return render(
        request,
        "rooms/transcript.html",
        await page_context(
            request,
            t=document,
            rec=record,
            party_names={party["id"]: party["name"] for party in record["parties"]},
            status_names={str(k): v for k, v in STATUS_NAMES.items()},
            field_names=FIELD_NAMES,
            form=form,
            values=values or {},
            error=error,
        ),
        status=error.status if error else 200,
    )


async def transcript_page(request: Request) -> Response:
    return await render_transcript(request, request.path_params["session_id"])


async def _signed_in(request: Request) -> Principal:
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    return caller


def _version(value: str) -> int | None:
    text = value.strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _seen(values: dict[str, str], error: ForumError) -> None:
    """After a refusal for a change made meanwhile, the form carries the version now
    stored: sent again, what was typed replaces the other change knowingly."""
    current = error.params.get("current")
    if error.code is ErrorCode.CONFLICT and isinstance(current, int):
        values["version"] = str(current)


def _done(session_id: int, anchor: str) -> Response:
    return RedirectResponse(f"/sessions/{session_id}/transcript#{anchor}", status_code=303)


async def minutes_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    session_id: int = request.path_params["session_id"]
    values = {"minutes": field(form, "minutes"), "version": field(form, "version")}
    try:
        async with db(request) as session:
            await do_write_minutes(
                session,
                session_id,
                user=caller.user,
                body=values["minutes"],
                version=_version(values["version"]),
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        _seen(values, error)
        return await render_transcript(
            request, session_id, form="minutes", values=values, error=error
        )
    return _done(session_id, "minutes-title")


def _given(values: dict[str, str]) -> FollowUpInput:
    return FollowUpInput(
        values["item"],
        values["owner"],
        parse_due(values["due"]),
        parse_status(values["status"] or FollowUpStatus.OPEN.value),
    )


def _follow_up_values(form: Any) -> dict[str, str]:
    return {name: field(form, name) for name in FOLLOW_UP_FIELDS}


async def add_follow_up_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    session_id: int = request.path_params["session_id"]
    values = _follow_up_values(form)
    try:
        given = _given(values)
        async with db(request) as session:
            await do_add_follow_up(session, session_id, user=caller.user, given=given)
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await render_transcript(
            request, session_id, form="follow-up", values=values, error=error
        )
    return _done(session_id, "follow-ups-title")


async def update_follow_up_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    session_id: int = request.path_params["session_id"]
    follow_up_id: int = request.path_params["follow_up_id"]
    values = _follow_up_values(form)
    try:
        given = _given(values)
        async with db(request) as session:
            await do_update_follow_up(
                session,
                session_id,
                follow_up_id,
                user=caller.user,
                given=given,
                version=_version(values["version"]),
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        _seen(values, error)
        # The fields of this follow-up's form are named after it.
        if error.field:
            error.field = f"fu{follow_up_id}-{error.field}"
        return await render_transcript(
            request, session_id, form=f"fu{follow_up_id}", values=values, error=error
        )
    return _done(session_id, f"fu{follow_up_id}")


routes = [
    Route("/sessions/{session_id:id}/transcript", transcript_page, methods=["GET"]),
    Route("/sessions/{session_id:id}/minutes", minutes_form, methods=["POST"]),
    Route("/sessions/{session_id:id}/follow-ups", add_follow_up_form, methods=["POST"]),
    Route(
        "/sessions/{session_id:id}/follow-ups/{follow_up_id:id}",
        update_follow_up_form,
        methods=["POST"],
    ),
]
