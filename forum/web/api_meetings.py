"""Meetings over JSON: briefings among named invitees, consultations between two
sides (proposal, answer, delegations), and each meeting's public record."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from forum.actions.consultations import (
    Proposal,
    do_answer_consultation,
    do_name_delegation,
    do_propose_consultation,
)
from forum.actions.meeting_view import get_meeting
from forum.actions.meetings import MeetingDraft, do_call_briefing, do_record_outcome
from forum.db.base import ID_MAX
from forum.domain.consultations import Basis
from forum.domain.sessions import SessionFormat
from forum.web.http import app_state, db, json_response, read_json, require_principal
from forum.web.openapi import ApiRouter

router = ApiRouter(tag="meetings")

UserId = Annotated[int, Field(ge=1, le=ID_MAX)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BriefingBody(_Strict):
    title: str = Field(max_length=1000)
    agenda: str = Field(default="", max_length=20_000)
    starts_at: datetime
    ends_at: datetime
    format: SessionFormat = SessionFormat.BRIEFING
    invitees: list[UserId] = Field(max_length=1000, description="User ids of the invitees")
    transcript_closed: bool = Field(
        default=False,
        description="Closed: the transcript is not public; the record (date, people, outcome) is",
    )


class ConsultationBody(_Strict):
    host: str = Field(max_length=80, description="Slug of the proposing group (its chair proposes)")
    guest: str = Field(max_length=80, description="Slug of the group invited")
    basis: Basis
    title: str = Field(max_length=1000)
    purpose: str = Field(max_length=8000)
    format: SessionFormat = Field(
        description="The interaction: open_debate, statements, drafting (comments on a text)"
    )
    agenda: str = Field(default="", max_length=20_000)
    starts_at: datetime
    minutes: int = Field(ge=1, le=100_000, description="The length, in minutes")
    seats_per_side: int = Field(ge=1, le=1000)


class AnswerBody(_Strict):
    answer: Literal["accept", "decline", "counter"]
    reason: str = Field(default="", max_length=4000, description="Why, when declining")
    starts_at: datetime | None = Field(default=None, description="Another time (counter)")
    minutes: int | None = Field(default=None, ge=1, le=100_000)


class DelegationBody(_Strict):
    delegates: list[UserId] = Field(max_length=1000, description="User ids, members of the side")


class OutcomeBody(_Strict):
    summary: str = Field(max_length=40_000)


class MeetingOut(BaseModel):
    id: int
    kind: str
    room: str = Field(description="The room's address for the WebSocket `join`")
    session: dict[str, Any]
    transcript_closed: bool
    outcome: str
    outcome_html: str
    people: list[dict[str, Any]]
    attended: list[dict[str, Any]]
    consultation: dict[str, Any] | None


class DelegationOut(BaseModel):
    delegates: list[int]


async def _meeting(request: Request, meeting_id: int, status: int = 200) -> Response:
    async with db(request) as session:
        return json_response(await get_meeting(session, meeting_id), status=status)


@router.route(
    "POST",
    "/briefings",
    summary="Call a briefing among named invitees (a chair or the secretariat)",
    body=BriefingBody,
    response=MeetingOut,
    status=201,
    auth="required",
)
async def call_briefing(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, BriefingBody)
    draft = MeetingDraft(body.title, body.agenda, body.starts_at, body.ends_at, body.format)
    async with db(request) as session:
        meeting = await do_call_briefing(
            session,
            app_state(request)["broker"],
            user=caller.user,
            draft=draft,
            invitees=body.invitees,
            transcript_closed=body.transcript_closed,
        )
    return await _meeting(request, meeting.id, status=201)


@router.route(
    "POST",
    "/consultations",
    summary="Propose a consultation to another group (the host's chair or coordinator)",
    body=ConsultationBody,
    response=MeetingOut,
    status=201,
    auth="required",
    errors=(404,),
)
async def propose(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, ConsultationBody)
    state = app_state(request)
    proposal = Proposal(
        host=body.host,
        guest=body.guest,
        basis=body.basis,
        purpose=body.purpose,
        seats_per_side=body.seats_per_side,
        minutes=body.minutes,
        meeting=MeetingDraft(body.title, body.agenda, body.starts_at, body.starts_at, body.format),
    )
    async with db(request) as session:
        meeting = await do_propose_consultation(
            session,
            state["broker"],
            user=caller.user,
            proposal=proposal,
            min_notice_days=state["settings"].consultation_min_notice_days,
        )
    return await _meeting(request, meeting.id, status=201)


@router.route(
    "GET",
    "/meetings/{meeting_id:id}",
    summary="A meeting's public record: session, people, attendance, outcome, consultation",
    response=MeetingOut,
)
async def meeting(request: Request) -> Response:
    return await _meeting(request, request.path_params["meeting_id"])


@router.route(
    "POST",
    "/consultations/{meeting_id:id}/answer",
    summary="Accept, decline (with a reason) or propose another time (the side asked)",
    body=AnswerBody,
    response=MeetingOut,
    auth="required",
    errors=(409,),
)
async def answer(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, AnswerBody)
    state = app_state(request)
    meeting_id: int = request.path_params["meeting_id"]
    async with db(request) as session:
        await do_answer_consultation(
            session,
            state["broker"],
            meeting_id,
            user=caller.user,
            answer=body.answer,
            reason=body.reason,
            starts_at=body.starts_at,
            minutes=body.minutes,
            min_notice_days=state["settings"].consultation_min_notice_days,
        )
    return await _meeting(request, meeting_id)


@router.route(
    "PUT",
    "/consultations/{meeting_id:id}/delegations/{side}",
    summary="Name a side's delegation (that side's chair or coordinator), within the seats",
    body=DelegationBody,
    response=DelegationOut,
    auth="required",
    errors=(409,),
)
async def delegation(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, DelegationBody)
    async with db(request) as session:
        chosen = await do_name_delegation(
            session,
            app_state(request)["broker"],
            request.path_params["meeting_id"],
            user=caller.user,
            side=request.path_params["side"],
            user_ids=body.delegates,
        )
    return json_response({"delegates": chosen})


@router.route(
    "PUT",
    "/meetings/{meeting_id:id}/outcome",
    summary="Record a meeting's outcome summary (its chair), public with its record",
    body=OutcomeBody,
    response=MeetingOut,
    auth="required",
)
async def outcome(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, OutcomeBody)
    meeting_id: int = request.path_params["meeting_id"]
    async with db(request) as session:
        await do_record_outcome(
            session,
            app_state(request)["broker"],
            meeting_id,
            user=caller.user,
            summary=body.summary,
        )
    return await _meeting(request, meeting_id)
