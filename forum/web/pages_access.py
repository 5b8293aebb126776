"""Pages of access to a room: a session's access windows (the chair sets them), and a
group's observers (anyone signed in asks for a seat; the chair decides). Plain HTML
forms with the CSRF token, each error beside its field and what was typed kept; a
write redirects (303). The actions decide who may.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.access_windows import do_remove_window, do_set_window, list_windows
from forum.actions.observer_requests import do_decide_observer_request, do_request_observer
from forum.actions.room_reads import member_of, room_for
from forum.auth import Principal
from forum.db.models import Group, Membership, RoomSession
from forum.db.observer_queries import list_observer_requests
from forum.domain.access_windows import AfterWindow, WindowSpec
from forum.domain.observer_requests import RequestStatus
from forum.domain.sessions import can_chair
from forum.domain.vocabulary import Family, GroupKind, Role, Seat
from forum.errors import N_, ErrorCode, ForumError
from forum.web.forms import field, read_form
from forum.web.http import app_state, db, principal
from forum.web.labels import FAMILY_NAMES, translated
from forum.web.locale import reader
from forum.web.pages import page_context
from forum.web.pages_room import SEAT_NAMES
from forum.web.templates import render

WINDOW_FIELDS = ("start_kind", "minutes_before_end", "starts_at", "length", "groups", "seat")
AFTER_NAMES = {
    "observer": N_("They move to an observer seat"),
    "out": N_("They leave the room"),
}


async def _signed_in(request: Request) -> Principal:
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    return caller


def _minutes(text: str, name: str) -> timedelta:
    text = text.strip()
    if not text.isdigit() or len(text) > 5:
        raise ForumError(ErrorCode.VALIDATION, N_("Give a whole number of minutes."), field=name)
    return timedelta(minutes=int(text))


def _spec(values: dict[str, str], families: list[str]) -> WindowSpec:
    try:
        seat = Seat(values["seat"])
        after = AfterWindow(values["after"])
        admitted = frozenset(Family(family) for family in families)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Choose one of the options."), field="seat"
        ) from None
    offset = at = None
    if values["start_kind"] == "at":
        try:
            at = datetime.fromisoformat(values["starts_at"]).replace(tzinfo=UTC)
        except ValueError:
            raise ForumError(
                ErrorCode.VALIDATION,
                N_("Give a date and time, such as 2005-11-16 09:00."),
                field="starts_at",
            ) from None
    else:
        offset = _minutes(values["minutes_before_end"], "minutes_before_end")
    return WindowSpec(
        length=_minutes(values["length"], "length"),
        seat=seat,
        after=after,
        families=admitted,
        offset=offset,
        at=at,
    )


async def _windows_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    families: list[str] | None = None,
    error: ForumError | None = None,
) -> Response:
    caller = await _signed_in(request)
    session_id: int = request.path_params["session_id"]
    async with db(request) as session:
        group, room = await room_for(session, request.path_params["slug"])
        row = await session.get(RoomSession, session_id)
        if row is None or row.room_id != room.id:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such session in this room."))
        chair = (await member_of(session, room, caller.user)).is_chair
        windows = await list_windows(session, row.id)
        ids = {group_id for window in windows for group_id in window.group_ids}
        names = dict(
            (await session.execute(select(Group.id, Group.name).where(Group.id.in_(ids)))).all()
        )
    shown_to = await reader(request)
    return render(
        request,
        "rooms/windows.html",
        await page_context(
            request,
            group=group,
            sitting=row,
            chair=chair,
            windows=windows,
            group_names=names,
            values=values
            or {
                "start_kind": "offset",
                "minutes_before_end": "15",
                "length": "15",
                "seat": "participant",
                "after": "observer",
            },
            checked=set(families if families is not None else [Family.GOVERNMENT.value]),
            error=error,
            families_by_value=translated(FAMILY_NAMES, shown_to),
            seat_names=translated(SEAT_NAMES, shown_to),
            after_names=translated(AFTER_NAMES, shown_to),
        ),
        status=error.status if error else 200,
    )


async def windows_page(request: Request) -> Response:
    return await _windows_page(request)


async def window_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    values = {name: field(form, name) for name in (*WINDOW_FIELDS, "after")}
    families = [value for value in form.getlist("families") if isinstance(value, str)]
    slug = request.path_params["slug"]
    session_id: int = request.path_params["session_id"]
    slugs = [part.strip() for part in values["groups"].split(",") if part.strip()]
    try:
        spec = _spec(values, families)
        async with db(request) as session:
            await do_set_window(
                session,
                app_state(request)["broker"],
                slug,
                user=caller.user,
                session_id=session_id,
                spec=spec,
                group_slugs=slugs[:60],
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND and error.field is None:
            raise
        return await _windows_page(request, values=values, families=families, error=error)
    return RedirectResponse(f"/groups/{slug}/room/sessions/{session_id}/windows", status_code=303)


async def remove_form(request: Request) -> Response:
    await read_form(request)
    caller = await _signed_in(request)
    slug = request.path_params["slug"]
    session_id: int = request.path_params["session_id"]
    try:
        async with db(request) as session:
            await do_remove_window(
                session,
                app_state(request)["broker"],
                slug,
                user=caller.user,
                window_id=request.path_params["window_id"],
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await _windows_page(request, error=error)
    return RedirectResponse(f"/groups/{slug}/room/sessions/{session_id}/windows", status_code=303)


# -- observers -----------------------------------------------------------------------


async def _observers_page(
    request: Request,
    *,
    error: ForumError | None = None,
    error_at: str | None = None,
    reason: str = "",
) -> Response:
    caller = await principal(request)
    async with db(request) as session:
        group, room = await room_for(session, request.path_params["slug"])
        actor = await member_of(session, room, caller.user) if caller else None
        chair = actor is not None and actor.is_chair
        statuses: tuple[str, ...] = (RequestStatus.APPROVED.value,)
        found = await list_observer_requests(
            session, group.id, statuses=(*statuses, RequestStatus.PENDING.value)
        )
        caucuses: list[Any] = []
        if caller is not None:
            caucuses = [
                (slug, name)
                for slug, name, role in await session.execute(
                    select(Group.slug, Group.name, Membership.role)
                    .join(Membership, Membership.group_id == Group.id)
                    .where(
                        Membership.user_id == caller.user.id,
                        Group.kind == GroupKind.CAUCUS.value,
                        Group.id != group.id,
                    )
                    .order_by(Group.name)
                )
                if can_chair(Role(role), is_secretariat=False)
            ]
    return render(
        request,
        "overview/observers.html",
        await page_context(
            request,
            group=group,
            chair=chair,
            member=actor is not None and actor.role is not None,
            approved=[r for r in found if r.status == RequestStatus.APPROVED.value],
            pending=[r for r in found if r.status == RequestStatus.PENDING.value] if chair else [],
            waiting=[
                r
                for r in found
                if r.status == RequestStatus.PENDING.value
                and caller is not None
                and r.user_id == caller.user.id
            ],
            caucuses=caucuses,
            error=error,
            error_at=error_at,
            reason=reason,
        ),
        status=error.status if error else 200,
    )


async def observers_page(request: Request) -> Response:
    return await _observers_page(request)


async def request_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    slug = request.path_params["slug"]
    caucus = field(form, "caucus").strip() or None
    try:
        async with db(request) as session:
            await do_request_observer(
                session, app_state(request)["broker"], slug, user=caller.user, caucus_slug=caucus
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND and error.field is None:
            raise
        return await _observers_page(request, error=error, error_at="ask")
    return RedirectResponse(f"/groups/{slug}/observers", status_code=303)


async def decide_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await _signed_in(request)
    slug = request.path_params["slug"]
    request_id: int = request.path_params["request_id"]
    reason = field(form, "reason")
    try:
        async with db(request) as session:
            await do_decide_observer_request(
                session,
                app_state(request)["broker"],
                slug,
                user=caller.user,
                request_id=request_id,
                approve=field(form, "decision") == "approve",
                reason=reason,
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await _observers_page(
            request, error=error, error_at=f"request-{request_id}", reason=reason
        )
    return RedirectResponse(f"/groups/{slug}/observers", status_code=303)


routes = [
    Route("/groups/{slug}/room/sessions/{session_id:id}/windows", windows_page, methods=["GET"]),
    Route("/groups/{slug}/room/sessions/{session_id:id}/windows", window_form, methods=["POST"]),
    Route(
        "/groups/{slug}/room/sessions/{session_id:id}/windows/{window_id:id}/remove",
        remove_form,
        methods=["POST"],
    ),
    Route("/groups/{slug}/observers", observers_page, methods=["GET"]),
    Route("/groups/{slug}/observers", request_form, methods=["POST"]),
    Route("/groups/{slug}/observers/{request_id:id}", decide_form, methods=["POST"]),
]
