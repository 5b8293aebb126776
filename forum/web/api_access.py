"""Access to rooms over JSON: the access windows of a session (the chair sets them) and
the observer requests of a group (anyone signed in asks; the chair decides)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from forum.actions.access_windows import do_remove_window, do_set_window, list_windows
from forum.actions.observer_requests import do_decide_observer_request, do_request_observer
from forum.actions.room_reads import member_of, room_for
from forum.db.models import ObserverRequest
from forum.db.observer_queries import list_observer_requests
from forum.domain.access_windows import AfterWindow, WindowSpec
from forum.domain.observer_requests import RequestStatus
from forum.domain.vocabulary import Family, Seat
from forum.web.http import app_state, db, json_response, principal, read_json, require_principal
from forum.web.openapi import ApiRouter

router = ApiRouter(tag="access")

MINUTES_MAX = 24 * 60


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccessWindowBody(_Strict):
    minutes_before_end: int | None = Field(
        default=None,
        ge=1,
        le=MINUTES_MAX,
        description="The window starts this many minutes before the session's scheduled end",
    )
    starts_at: datetime | None = Field(
        default=None, description="Or the window starts at this time (with its offset)"
    )
    length_minutes: int = Field(ge=1, le=MINUTES_MAX)
    families: list[Family] = Field(default_factory=list, max_length=4)
    groups: list[str] = Field(
        default_factory=list, max_length=50, description="Slugs of the groups it admits"
    )
    seat: Seat = Seat.PARTICIPANT
    after: AfterWindow = Field(
        default=AfterWindow.OBSERVER,
        description="At its end, the people it seated move to an observer seat, or out",
    )


class AccessWindowOut(BaseModel):
    id: int
    session: int
    starts_at: datetime
    ends_at: datetime
    offset_s: int | None
    families: list[Family]
    groups: list[int]
    seat: Seat
    after: AfterWindow
    ended: bool


class AccessWindowList(BaseModel):
    windows: list[AccessWindowOut]


class WindowRemovedOut(BaseModel):
    removed: int


class ObserverRequestBody(_Strict):
    caucus: str | None = Field(
        default=None,
        max_length=80,
        description="Ask for this caucus (you chair or coordinate it); omitted: for yourself",
    )


class ObserverDecisionBody(_Strict):
    approve: bool
    reason: str = Field(default="", max_length=2000, description="Required to refuse")


class ObserverRequester(BaseModel):
    id: int
    name: str


class ObserverCaucus(BaseModel):
    slug: str
    name: str


class ObserverRequestOut(BaseModel):
    id: int
    status: RequestStatus
    family: Family
    reason: str
    requested_by: ObserverRequester
    caucus: ObserverCaucus | None
    created_at: datetime


class ObserverRequestList(BaseModel):
    requests: list[ObserverRequestOut]


def spec_of(body: AccessWindowBody) -> WindowSpec:
    return WindowSpec(
        length=timedelta(minutes=body.length_minutes),
        seat=body.seat,
        after=body.after,
        families=frozenset(body.families),
        offset=(
            None if body.minutes_before_end is None else timedelta(minutes=body.minutes_before_end)
        ),
        at=body.starts_at,
    )


@router.route(
    "GET",
    "/rooms/{slug}/sessions/{session_id:id}/windows",
    summary="A session's access windows",
    response=AccessWindowList,
    errors=(404,),
)
async def windows(request: Request) -> Response:
    async with db(request) as session:
        await room_for(session, request.path_params["slug"])
        rows = await list_windows(session, request.path_params["session_id"])
    return json_response({"windows": [row.wire() for row in rows]})


@router.route(
    "POST",
    "/rooms/{slug}/sessions/{session_id:id}/windows",
    summary="Open part of a session to people outside the group (chair)",
    body=AccessWindowBody,
    response=AccessWindowOut,
    status=201,
    auth="required",
    errors=(401, 403, 404, 409, 422),
)
async def set_window(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, AccessWindowBody)
    async with db(request) as session:
        row = await do_set_window(
            session,
            app_state(request)["broker"],
            request.path_params["slug"],
            user=caller.user,
            session_id=request.path_params["session_id"],
            spec=spec_of(body),
            group_slugs=body.groups,
        )
    return json_response(row.wire(), status=201)


@router.route(
    "DELETE",
    "/rooms/{slug}/windows/{window_id:id}",
    summary="Remove an access window that has not opened (chair)",
    response=WindowRemovedOut,
    auth="required",
    errors=(401, 403, 404, 409),
)
async def remove_window(request: Request) -> Response:
    caller = await require_principal(request)
    window_id: int = request.path_params["window_id"]
    async with db(request) as session:
        await do_remove_window(
            session,
            app_state(request)["broker"],
            request.path_params["slug"],
            user=caller.user,
            window_id=window_id,
        )
    return json_response({"removed": window_id})


@router.route(
    "GET",
    "/groups/{slug}/observer-requests",
    summary="A group's approved observers; its chair also sees the requests waiting",
    response=ObserverRequestList,
    errors=(404,),
)
async def observer_requests(request: Request) -> Response:
    caller = await principal(request)
    async with db(request) as session:
        group, room = await room_for(session, request.path_params["slug"])
        chair = caller is not None and (await member_of(session, room, caller.user)).is_chair
        statuses: tuple[str, ...] = (RequestStatus.APPROVED.value,)
        if chair:
            statuses = (RequestStatus.PENDING.value, *statuses, RequestStatus.REFUSED.value)
        found = await list_observer_requests(session, group.id, statuses=statuses)
    return json_response({"requests": [row.wire() for row in found]})


def _wire(row: ObserverRequest) -> dict[str, object]:
    return {"id": row.id, "status": row.status, "family": row.family, "reason": row.reason}


class ObserverRequestDecided(BaseModel):
    id: int
    status: RequestStatus
    family: Family
    reason: str


@router.route(
    "POST",
    "/groups/{slug}/observer-requests",
    summary="Ask for an observer seat in a group's sessions, for yourself or a caucus",
    body=ObserverRequestBody,
    response=ObserverRequestDecided,
    status=201,
    auth="required",
    errors=(401, 403, 404, 409, 422),
)
async def request_observer(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, ObserverRequestBody)
    async with db(request) as session:
        row = await do_request_observer(
            session,
            app_state(request)["broker"],
            request.path_params["slug"],
            user=caller.user,
            caucus_slug=body.caucus,
        )
    return json_response(_wire(row), status=201)


@router.route(
    "POST",
    "/groups/{slug}/observer-requests/{request_id:id}/decision",
    summary="Approve an observer request, or refuse it with a reason (chair)",
    body=ObserverDecisionBody,
    response=ObserverRequestDecided,
    auth="required",
    errors=(401, 403, 404, 409, 422),
)
async def decide(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, ObserverDecisionBody)
    async with db(request) as session:
        row = await do_decide_observer_request(
            session,
            app_state(request)["broker"],
            request.path_params["slug"],
            user=caller.user,
            request_id=request.path_params["request_id"],
            approve=body.approve,
            reason=body.reason,
        )
    return json_response(_wire(row))
