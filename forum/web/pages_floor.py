"""The floor's pages: a session's speaking-time budgets per stakeholder family (the
chair's form, minutes per family, working without JavaScript), and a group's equity
over a chosen period (public, as the transcripts are)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.equity_reads import get_period_equity
from forum.actions.floor_time import do_set_budgets
from forum.actions.room_reads import member_of, room_for
from forum.db.models import RoomSession
from forum.domain.regions import SIDES
from forum.domain.vocabulary import Family
from forum.errors import N_, ErrorCode, ForumError
from forum.web.api_floor import bounds, period_of
from forum.web.forms import field, read_form
from forum.web.http import app_state, db, principal
from forum.web.labels import FAMILY_NAMES, SIDE_NAMES, translated
from forum.web.locale import reader
from forum.web.pages import page_context
from forum.web.templates import render

BUDGET_MINUTES_MAX = 6
"""Digits a minutes field takes."""


async def _session_row(request: Request) -> tuple[Any, Any, RoomSession, bool]:
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to run a room."))
    async with db(request) as session:
        group, room = await room_for(session, request.path_params["slug"])
        row = await session.get(RoomSession, request.path_params["session_id"])
        if row is None or row.room_id != room.id:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such session in this room."))
        chair = (await member_of(session, room, caller.user)).is_chair
    return caller, group, row, chair


async def _budgets_page(
    request: Request,
    values: dict[str, str] | None = None,
    error: ForumError | None = None,
) -> Response:
    _caller, group, row, chair = await _session_row(request)
    if values is None:
        values = {
            family.value: str(row.family_budgets[family.value] // 60)
            if family.value in row.family_budgets
            else ""
            for family in Family
        }
    return render(
        request,
        "rooms/budgets.html",
        await page_context(
            request,
            group=group,
            s=row,
            chair=chair,
            values=values,
            error=error,
            length_minutes=int((row.ends_at - row.starts_at).total_seconds()) // 60,
            families_by_value=translated(FAMILY_NAMES, await reader(request)),
        ),
        status=error.status if error else 200,
    )


async def budgets_page(request: Request) -> Response:
    return await _budgets_page(request)


def _minutes(values: dict[str, str]) -> dict[str, int]:
    budgets: dict[str, int] = {}
    for family, value in values.items():
        text = value.strip()
        if not text:
            continue
        if not text.isdigit() or len(text) > BUDGET_MINUTES_MAX or int(text) == 0:
            raise ForumError(
                ErrorCode.VALIDATION,
                N_("Give whole minutes, at least one, or leave the field empty."),
                field=family,
            )
        budgets[family] = int(text) * 60
    return budgets


async def budgets_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to run a room."))
    values = {family.value: field(form, family.value) for family in Family}
    slug = request.path_params["slug"]
    try:
        budgets = _minutes(values)
        async with db(request) as session:
            await do_set_budgets(
                session,
                app_state(request)["broker"],
                slug,
                user=caller.user,
                session_id=request.path_params["session_id"],
                budgets=budgets,
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await _budgets_page(request, values, error)
    return RedirectResponse(f"/groups/{slug}/room/sessions", status_code=303)


async def equity_page(request: Request) -> Response:
    error: ForumError | None = None
    found: dict[str, Any] | None = None
    asked = {
        "from": request.query_params.get("from", ""),
        "to": request.query_params.get("to", ""),
    }
    async with db(request) as session:
        group, _room = await room_for(session, request.path_params["slug"])
        try:
            start, end = period_of(request)
            asked = {"from": start.isoformat(), "to": end.isoformat()}
            low, high = bounds(start, end)
            found = await get_period_equity(session, group.slug, start=low, end=high)
        except ForumError as refused:
            if refused.code is ErrorCode.NOT_FOUND:
                raise
            error = refused
    return render(
        request,
        "rooms/equity.html",
        await page_context(
            request,
            group=group,
            asked=asked,
            found=found,
            error=error,
            families_by_value=translated(FAMILY_NAMES, await reader(request)),
            side_names=translated(SIDE_NAMES, await reader(request)),
            sides=(*SIDES, "unknown"),
        ),
        status=error.status if error else 200,
    )


routes = [
    Route("/groups/{slug}/room/sessions/{session_id:id}/budgets", budgets_page, methods=["GET"]),
    Route("/groups/{slug}/room/sessions/{session_id:id}/budgets", budgets_form, methods=["POST"]),
    Route("/groups/{slug}/equity", equity_page, methods=["GET"]),
]
