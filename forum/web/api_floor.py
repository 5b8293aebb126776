"""The floor's time and equity over JSON: a session's speaking-time budgets per
stakeholder family (chair), the open session's equity figures (chair), and a room's
equity over a period (public, as the transcripts are)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict
from starlette.requests import Request
from starlette.responses import Response

from forum.actions.equity_reads import get_live_equity, get_period_equity
from forum.actions.floor_time import do_set_budgets
from forum.actions.room_reads import room_for
from forum.errors import N_, ErrorCode, ForumError
from forum.web.http import app_state, db, json_response, read_json, require_principal
from forum.web.openapi import ApiRouter

router = ApiRouter(tag="rooms")

PERIOD_DEFAULT_DAYS = 90
BUDGET_MAX_S = 86_400
"""A family's budget is at most a day (the session's length bounds it further)."""
_DATE = {"type": "string", "format": "date"}


class BudgetsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    budgets: dict[str, Annotated[int, Strict(), Field(ge=1, le=BUDGET_MAX_S)]] = Field(
        description="Seconds of speaking time per stakeholder family; {} removes them",
        max_length=10,
    )


class BudgetsOut(BaseModel):
    session_id: int
    family_budgets: dict[str, int]


class EquityFigures(BaseModel):
    by_family: dict[str, dict[str, int]]
    by_side: dict[str, dict[str, int]] = Field(description="north, south and unknown")
    total: dict[str, int]


class LiveEquityOut(BaseModel):
    session_id: int
    seq: int
    equity: EquityFigures


class PeriodEquityOut(BaseModel):
    group: dict[str, str]
    from_: str = Field(alias="from")
    to: str
    sessions: list[dict[str, Any]]
    equity: EquityFigures


def _day(request: Request, name: str, default: date) -> date:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Give a date such as 2005-11-16."),
            field=name,
        ) from None


def period_of(request: Request) -> tuple[date, date]:
    """The period asked for: `from` and `to`, days both included (default: the last
    90 days up to today)."""
    today = datetime.now(UTC).date()
    end = _day(request, "to", today)
    start = _day(request, "from", end - timedelta(days=PERIOD_DEFAULT_DAYS))
    return start, end


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(), tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC),
    )


@router.route(
    "PUT",
    "/rooms/{slug}/sessions/{session_id:id}/budgets",
    summary="Give each stakeholder family speaking time in a session (chair)",
    body=BudgetsBody,
    response=BudgetsOut,
    auth="required",
    errors=(401, 403, 404, 409, 422),
)
async def budgets(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, BudgetsBody)
    state = app_state(request)
    async with db(request) as session:
        row = await do_set_budgets(
            session,
            state["broker"],
            request.path_params["slug"],
            user=caller.user,
            session_id=request.path_params["session_id"],
            budgets=body.budgets,
        )
    return json_response({"session_id": row.id, "family_budgets": row.family_budgets})


@router.route(
    "GET",
    "/rooms/{slug}/equity/live",
    summary="The open session's equity figures so far (chair)",
    response=LiveEquityOut,
    auth="required",
    errors=(401, 403, 404, 409),
)
async def live_equity(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        _group, room = await room_for(session, request.path_params["slug"])
        found = await get_live_equity(session, room.id, user=caller.user)
    return json_response(found)


@router.route(
    "GET",
    "/rooms/{slug}/equity",
    summary="Equity over a period: the room's closed sessions, by family and by region",
    response=PeriodEquityOut,
    errors=(404, 422),
    query=[
        ("from", "first day (YYYY-MM-DD); default 90 days before `to`", _DATE),
        ("to", "last day (YYYY-MM-DD), included; default today", _DATE),
    ],
)
async def period_equity(request: Request) -> Response:
    start, end = bounds(*period_of(request))
    async with db(request) as session:
        found = await get_period_equity(session, request.path_params["slug"], start=start, end=end)
    return json_response(found)
