"""The chair's pages of a room: schedule sessions, open, close or cancel them, set the
observer seats. Plain HTML forms with the CSRF token, each error beside its field and what was
typed kept; a write redirects (303), so that reloading never posts twice. The actions
decide who may: someone who is not the chair is refused by them, not by the page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.room_reads import list_sessions, member_of, room_for
from forum.actions.room_state import observer_policy_of
from forum.actions.rooms import SessionDraft, do_close_session, do_open_session, do_schedule_session
from forum.actions.seats import do_set_observer_policy
from forum.actions.session_edits import do_cancel_session, do_edit_session
from forum.auth import Principal
from forum.db.models import RoomSession
from forum.domain.sessions import SessionFormat, SessionStatus
from forum.domain.vocabulary import Family
from forum.errors import N_, ErrorCode, ForumError
from forum.web.forms import field, read_form
from forum.web.http import app_state, db, principal
from forum.web.labels import FAMILY_NAMES, translated
from forum.web.locale import reader
from forum.web.pages import page_context
from forum.web.pages_room import FORMAT_NAMES
from forum.web.templates import render

SESSION_FIELDS = ("title", "agenda", "format", "starts_at", "ends_at", "conference_url")


async def _signed_in(request: Request) -> Principal:
    """The caller; forms are CSRF-checked by `read_form` before this is asked."""
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to run a room."))
    return caller


def _utc(value: str, name: str) -> datetime:
    """A `datetime-local` value, read as UTC (the form says so)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Give a date and time, such as 2005-11-16 09:00."), field=name
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def _page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    seats: dict[str, str] | None = None,
    error: ForumError | None = None,
    status: int = 200,
) -> Response:
    caller = await _signed_in(request)
    async with db(request) as session:
        group, room = await room_for(session, request.path_params["slug"])
        chair = (await member_of(session, room, caller.user)).is_chair
        rows = await list_sessions(session, room.id)
        policy = observer_policy_of(room)
    current = {family.value: str(policy.seats_for(family)) for family in Family}
    return render(
        request,
        "rooms/chair.html",
        await page_context(
            request,
            group=group,
            chair=chair,
            open_sessions=[row for row in rows if row.status == SessionStatus.OPEN.value],
            scheduled=[
                row for row in reversed(rows) if row.status == SessionStatus.SCHEDULED.value
            ],
            values=values or {"format": SessionFormat.STATEMENTS.value},
            seats=seats or current,
            error=error,
            format_names=translated(FORMAT_NAMES, await reader(request)),
            families_by_value=translated(FAMILY_NAMES, await reader(request)),
        ),
        status=status,
    )


async def chair_page(request: Request) -> Response:
    return await _page(request)


def _draft(values: dict[str, str]) -> SessionDraft:
    try:
        kind = SessionFormat(values["format"])
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Choose one of the formats."), field="format"
        ) from None
    return SessionDraft(
        values["title"],
        values["agenda"],
        _utc(values["starts_at"], "starts_at"),
        _utc(values["ends_at"], "ends_at"),
        kind,
        values["conference_url"],
    )


def _session_id(request: Request) -> int:
    # The `id` convertor has parsed and bounded it already.
    session_id: int = request.path_params["session_id"]
    return session_id


async def _edit_page(
    request: Request, values: dict[str, str] | None, error: ForumError | None = None
) -> Response:
    await _signed_in(request)
    session_id = _session_id(request)
    async with db(request) as session:
        group, room = await room_for(session, request.path_params["slug"])
        row = await session.get(RoomSession, session_id)
        if row is None or row.room_id != room.id:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such session in this room."))
    if values is None:
        values = {
            "title": row.title,
            "agenda": row.agenda,
            "format": row.format,
            "starts_at": row.starts_at.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": row.ends_at.strftime("%Y-%m-%dT%H:%M"),
            "conference_url": row.conference_url or "",
        }
    return render(
        request,
        "rooms/edit_session.html",
        await page_context(
            request,
            group=group,
            session_id=session_id,
            title=row.title,
            values=values,
            error=error,
            format_names=translated(FORMAT_NAMES, await reader(request)),
        ),
        status=error.status if error else 200,
    )


async def edit_page(request: Request) -> Response:
    return await _edit_page(request, None)


async def _session_form(request: Request) -> tuple[Principal, dict[str, str], str]:
    """Who sends a session's form, what they typed (kept for the page shown again on a
    refusal), and the room's group."""
    form = await read_form(request)
    caller = await _signed_in(request)
    values = {name: field(form, name) for name in SESSION_FIELDS}
    return caller, values, request.path_params["slug"]


async def edit_form(request: Request) -> Response:
    caller, values, slug = await _session_form(request)
    try:
        draft = _draft(values)
        async with db(request) as session:
            await do_edit_session(
                session,
                app_state(request)["broker"],
                slug,
                user=caller.user,
                session_id=_session_id(request),
                draft=draft,
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await _edit_page(request, values, error)
    return RedirectResponse(f"/groups/{slug}/room/sessions", status_code=303)


async def schedule_form(request: Request) -> Response:
    caller, values, slug = await _session_form(request)
    try:
        draft = _draft(values)
        async with db(request) as session:
            await do_schedule_session(
                session, app_state(request)["broker"], slug, user=caller.user, draft=draft
            )
    except ForumError as error:
        return await _page(request, values=values, error=error, status=error.status)
    return RedirectResponse(f"/groups/{slug}/room/sessions", status_code=303)


async def open_form(request: Request) -> Response:
    return await _lifecycle(request, "open")


async def close_form(request: Request) -> Response:
    return await _lifecycle(request, "close")


async def cancel_form(request: Request) -> Response:
    return await _lifecycle(request, "cancel")


_LIFECYCLE = {"open": do_open_session, "close": do_close_session, "cancel": do_cancel_session}


async def _lifecycle(request: Request, step: str) -> Response:
    await read_form(request)
    caller = await _signed_in(request)
    slug = request.path_params["slug"]
    opening = step == "open"
    try:
        session_id = _session_id(request)
        action = _LIFECYCLE[step]
        async with db(request) as session:
            await action(
                session,
                app_state(request)["broker"],
                slug,
                user=caller.user,
                session_id=session_id,
            )
    except ForumError as error:
        return await _page(request, error=error, status=error.status)
    return RedirectResponse(
        f"/groups/{slug}/room" if opening else f"/groups/{slug}/room/sessions", status_code=303
    )


async def seats_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    seats = {family.value: field(form, family.value) for family in Family}
    slug = request.path_params["slug"]
    try:
        counts: dict[str, Any] = {}
        for family, value in seats.items():
            text = value.strip() or "0"
            if not text.isdigit() or len(text) > 6:
                raise ForumError(
                    ErrorCode.VALIDATION, N_("Seat counts are whole numbers."), field=family
                )
            counts[family] = int(text)
        async with db(request) as session:
            await do_set_observer_policy(
                session, app_state(request)["broker"], slug, user=caller.user, seats=counts
            )
    except ForumError as error:
        return await _page(request, seats=seats, error=error, status=error.status)
    return RedirectResponse(f"/groups/{slug}/room/sessions", status_code=303)


routes = [
    Route("/groups/{slug}/room/sessions", chair_page, methods=["GET"]),
    Route("/groups/{slug}/room/sessions", schedule_form, methods=["POST"]),
    Route("/groups/{slug}/room/sessions/{session_id:id}/edit", edit_page, methods=["GET"]),
    Route("/groups/{slug}/room/sessions/{session_id:id}/edit", edit_form, methods=["POST"]),
    Route("/groups/{slug}/room/sessions/{session_id:id}/open", open_form, methods=["POST"]),
    Route("/groups/{slug}/room/sessions/{session_id:id}/close", close_form, methods=["POST"]),
    Route("/groups/{slug}/room/sessions/{session_id:id}/cancel", cancel_form, methods=["POST"]),
    Route("/groups/{slug}/room/observer-seats", seats_form, methods=["POST"]),
]
