"""A closed session's record over JSON: its minutes and follow-ups (public to read;
written by the chairs of the groups taking part, forum/actions/minutes.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from forum.actions.minutes import (
    FollowUpInput,
    do_add_follow_up,
    do_update_follow_up,
    do_write_minutes,
    get_record,
)
from forum.domain.minutes import FollowUpStatus
from forum.web.http import db, json_response, principal, read_json, require_principal
from forum.web.openapi import ApiRouter

router = ApiRouter(tag="records")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MinutesBody(_Strict):
    body: str = Field(max_length=40_000, description="Markdown")
    version: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,
        description="The version read before editing: refused (409) if someone wrote since",
    )


class FollowUpBody(_Strict):
    item: str = Field(max_length=1000)
    owner: str = Field(max_length=80, description="The slug of one of the groups taking part")
    due: date | None = None
    status: FollowUpStatus = FollowUpStatus.OPEN
    version: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,
        description="For a change: the version read before editing (409 if it moved on)",
    )


class RecordOut(BaseModel):
    session_id: int
    parties: list[dict[str, Any]]
    may_edit: bool = Field(description="Whether the caller may write this record")
    minutes: dict[str, Any] | None
    follow_ups: list[dict[str, Any]]
    changes: list[dict[str, Any]] = Field(description="Every change, oldest first")


async def _record(request: Request, session_id: int, status: int = 200) -> Response:
    caller = await principal(request)
    async with db(request) as session:
        record = await get_record(session, session_id, user=caller.user if caller else None)
    return json_response(record, status=status)


def _given(body: FollowUpBody) -> FollowUpInput:
    return FollowUpInput(body.item, body.owner, body.due, body.status)


@router.route(
    "GET",
    "/sessions/{session_id:id}/record",
    summary="A closed session's minutes, follow-ups and every change to them",
    response=RecordOut,
    auth="optional",
    errors=(404,),
)
async def record(request: Request) -> Response:
    return await _record(request, request.path_params["session_id"])


@router.route(
    "PUT",
    "/sessions/{session_id:id}/minutes",
    summary="Write a closed session's minutes (chairs of the groups taking part)",
    body=MinutesBody,
    response=RecordOut,
    auth="required",
    errors=(401, 403, 404, 409, 422),
)
async def minutes(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, MinutesBody)
    session_id: int = request.path_params["session_id"]
    async with db(request) as session:
        await do_write_minutes(
            session, session_id, user=caller.user, body=body.body, version=body.version
        )
    return await _record(request, session_id)


@router.route(
    "POST",
    "/sessions/{session_id:id}/follow-ups",
    summary="Add a follow-up to a closed session (chairs of the groups taking part)",
    body=FollowUpBody,
    response=RecordOut,
    status=201,
    auth="required",
    errors=(401, 403, 404, 409, 422),
)
async def add_follow_up(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, FollowUpBody)
    session_id: int = request.path_params["session_id"]
    async with db(request) as session:
        await do_add_follow_up(session, session_id, user=caller.user, given=_given(body))
    return await _record(request, session_id, status=201)


@router.route(
    "PUT",
    "/sessions/{session_id:id}/follow-ups/{follow_up_id:id}",
    summary="Change a follow-up: item, owner, due date, status (chairs of the parties)",
    body=FollowUpBody,
    response=RecordOut,
    auth="required",
    errors=(401, 403, 404, 409, 422),
)
async def update_follow_up(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, FollowUpBody)
    session_id: int = request.path_params["session_id"]
    async with db(request) as session:
        await do_update_follow_up(
            session,
            session_id,
            request.path_params["follow_up_id"],
            user=caller.user,
            given=_given(body),
            version=body.version,
        )
    return await _record(request, session_id)
