"""Rooms over JSON: schedule, open, close and cancel sessions; room state; observer seats;
transcripts of closed sessions (public)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from forum.actions.presence import get_presence
from forum.actions.room_reads import get_room_state, get_transcript, list_sessions, room_for
from forum.actions.room_state import session_wire
from forum.actions.rooms import SessionDraft, do_close_session, do_open_session, do_schedule_session
from forum.actions.seats import do_set_observer_policy
from forum.actions.session_edits import do_cancel_session, do_edit_session
from forum.actions.voice import chair_session_wire, get_conference
from forum.domain.sessions import SessionFormat, SessionStatus
from forum.errors import N_, ErrorCode, ForumError
from forum.web.http import app_state, db, json_response, read_json, require_principal
from forum.web.openapi import ApiRouter, one_of
from forum.wire.room import StateWithPresence

router = ApiRouter(tag="rooms")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleBody(_Strict):
    title: str = Field(max_length=1000)
    agenda: str = Field(default="", max_length=20_000)
    starts_at: datetime
    ends_at: datetime
    format: SessionFormat = SessionFormat.STATEMENTS
    conference_url: str | None = Field(
        default=None,
        max_length=1000,
        description="The session's audio or video conference, an https link; blank for none",
    )


class ObserverSeatsBody(_Strict):
    observer_seats: dict[str, int]


class SessionOut(BaseModel):
    id: int
    room: int
    title: str
    agenda: str
    agenda_html: str
    format: SessionFormat
    status: SessionStatus
    starts_at: datetime
    ends_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    conference_url: str | None = Field(
        default=None,
        description="Only in the chair's answers (schedule, edit, open, close)",
    )


class SessionList(BaseModel):
    sessions: list[SessionOut]


class RoomStateOut(BaseModel):
    room: int
    group: str
    name: str
    seq: int
    session: SessionOut | None
    queue_policy: str
    observer_seats: dict[str, int]
    queue: list[dict[str, Any]]
    floor: dict[str, Any] | None
    spoken: dict[str, int]
    presence: dict[str, Any]


class TranscriptOut(BaseModel):
    session: SessionOut
    group: dict[str, str]
    attendance: dict[str, Any]
    events: list[dict[str, Any]]
    speakers: list[dict[str, Any]]
    equity: dict[str, Any] = Field(
        description="Turns, points of order, speaking time and interventions by "
        "stakeholder family and by north and south"
    )


class ConferenceOut(BaseModel):
    session_id: int | None = Field(description="The open session; null between sessions")
    conference_url: str | None


@router.route(
    "GET",
    "/rooms/{slug}",
    summary="A room's live state (signed in)",
    response=RoomStateOut,
    auth="required",
    errors=(401, 404),
)
async def room_state(request: Request) -> Response:
    await require_principal(request)
    async with db(request) as session:
        _group, room = await room_for(session, request.path_params["slug"])
        state: StateWithPresence = {
            **await get_room_state(session, room.id),
            "presence": await get_presence(session, room.id),
        }
    return json_response(state)


def _draft(body: ScheduleBody) -> SessionDraft:
    return SessionDraft(
        body.title, body.agenda, body.starts_at, body.ends_at, body.format, body.conference_url
    )


@router.route(
    "GET",
    "/rooms/{slug}/conference",
    summary="The open session's conference link (seated in the room, or the chair)",
    response=ConferenceOut,
    auth="required",
    errors=(401, 403, 404),
)
async def conference(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        _group, room = await room_for(session, request.path_params["slug"])
        found = await get_conference(session, room.id, user=caller.user)
    return json_response(found)


@router.route(
    "GET",
    "/rooms/{slug}/sessions",
    summary="A room's sessions, newest first",
    response=SessionList,
    errors=(404,),
    query=[("status", "scheduled, open or closed", one_of(SessionStatus))],
)
async def sessions(request: Request) -> Response:
    status = request.query_params.get("status")
    if status is not None and status not in {s.value for s in SessionStatus}:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Unknown status '{status}'."),
            field="status",
            params={"status": status},
        )
    async with db(request) as session:
        _group, room = await room_for(session, request.path_params["slug"])
        rows = await list_sessions(
            session, room.id, status=SessionStatus(status) if status else None
        )
    return json_response({"sessions": [session_wire(row) for row in rows]})


@router.route(
    "POST",
    "/rooms/{slug}/sessions",
    summary="Schedule a session (chair)",
    body=ScheduleBody,
    response=SessionOut,
    status=201,
    auth="required",
    errors=(401, 403, 404, 422),
)
async def schedule(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, ScheduleBody)
    state = app_state(request)
    async with db(request) as session:
        row = await do_schedule_session(
            session,
            state["broker"],
            request.path_params["slug"],
            user=caller.user,
            draft=_draft(body),
        )
    return json_response(chair_session_wire(row), status=201)


@router.route(
    "PUT",
    "/rooms/{slug}/sessions/{session_id:id}",
    summary="Edit a scheduled session (chair)",
    body=ScheduleBody,
    response=SessionOut,
    auth="required",
    errors=(401, 403, 404, 409, 422),
)
async def edit(request: Request) -> Response:
    caller = await require_principal(request)
    session_id: int = request.path_params["session_id"]
    body = await read_json(request, ScheduleBody)
    state = app_state(request)
    async with db(request) as session:
        row = await do_edit_session(
            session,
            state["broker"],
            request.path_params["slug"],
            user=caller.user,
            session_id=session_id,
            draft=_draft(body),
        )
    return json_response(chair_session_wire(row))


async def _lifecycle(request: Request, opening: bool) -> Response:
    caller = await require_principal(request)
    session_id: int = request.path_params["session_id"]
    state = app_state(request)
    async with db(request) as session:
        action = do_open_session if opening else do_close_session
        row = await action(
            session,
            state["broker"],
            request.path_params["slug"],
            user=caller.user,
            session_id=session_id,
        )
    return json_response(chair_session_wire(row))


@router.route(
    "POST",
    "/rooms/{slug}/sessions/{session_id:id}/open",
    summary="Open a session (chair)",
    response=SessionOut,
    auth="required",
    errors=(401, 403, 404, 409),
)
async def open_session(request: Request) -> Response:
    return await _lifecycle(request, opening=True)


@router.route(
    "POST",
    "/rooms/{slug}/sessions/{session_id:id}/close",
    summary="Close a session (chair)",
    response=SessionOut,
    auth="required",
    errors=(401, 403, 404, 409),
)
async def close_session(request: Request) -> Response:
    return await _lifecycle(request, opening=False)


@router.route(
    "POST",
    "/rooms/{slug}/sessions/{session_id:id}/cancel",
    summary="Cancel a scheduled session (chair): calendars show it cancelled",
    response=SessionOut,
    auth="required",
    errors=(401, 403, 404, 409),
)
async def cancel_session(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        row = await do_cancel_session(
            session,
            app_state(request)["broker"],
            request.path_params["slug"],
            user=caller.user,
            session_id=request.path_params["session_id"],
        )
    return json_response(chair_session_wire(row))


@router.route(
    "PUT",
    "/rooms/{slug}/observer-seats",
    summary="Set observer seats per family (chair)",
    body=ObserverSeatsBody,
    response=ObserverSeatsBody,
    auth="required",
    errors=(401, 403, 404, 422),
)
async def observer_seats(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, ObserverSeatsBody)
    state = app_state(request)
    async with db(request) as session:
        event = await do_set_observer_policy(
            session,
            state["broker"],
            request.path_params["slug"],
            user=caller.user,
            seats=body.observer_seats,
        )
    return json_response({"observer_seats": event.data["observer_seats"]})


@router.route(
    "GET",
    "/sessions/{session_id:id}/transcript",
    summary="The public transcript of a closed session",
    response=TranscriptOut,
    errors=(404,),
)
async def transcript(request: Request) -> Response:
    async with db(request) as session:
        document = await get_transcript(session, request.path_params["session_id"])
    return json_response(document)
