"""The secretariat's pages for action lines and themes, and for the changes of
stakeholder family people ask for. Guarded as every secretariat page is
(`pages_secretariat.secretariat`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.secretariat import do_decide_family_request, do_edit_action_line
from forum.db.queries import get_action_line, list_action_lines, list_pending_family_requests
from forum.errors import N_, ErrorCode, ForumError
from forum.web.forms import field
from forum.web.http import app_state, db
from forum.web.pages_secretariat import context, secretariat, secretariat_form
from forum.web.templates import render

LINE_FIELDS = ("title", "description", "facilitators")


async def action_lines_page(request: Request) -> Response:
    await secretariat(request)
    async with db(request) as session:
        lines = await list_action_lines(session)
    return render(request, "secretariat/action_lines.html", await context(request, lines=lines))


async def _line_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    error: ForumError | None = None,
    status: int = 200,
) -> Response:
    async with db(request) as session:
        line = await get_action_line(session, request.path_params["code"])
    if line is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such action line or theme."))
    current = {
        "title": line.title,
        "description": line.description,
        "facilitators": "\n".join(line.facilitators),
    }
    return render(
        request,
        "secretariat/action_line.html",
        await context(
            request,
            line=line,
            values=values or current,
            error=error,
            notice=request.query_params.get("done"),
        ),
        status=status,
    )


async def action_line_page(request: Request) -> Response:
    await secretariat(request)
    return await _line_page(request)


async def edit_action_line_form(request: Request) -> Response:
    caller, form = await secretariat_form(request)
    values = {name: field(form, name) for name in LINE_FIELDS}
    code = request.path_params["code"]
    try:
        async with db(request) as session:
            await do_edit_action_line(
                session, app_state(request)["broker"], actor=caller.user, code=code, **values
            )
    except ForumError as error:
        return await _line_page(request, values=values, error=error, status=error.status)
    return RedirectResponse(f"/secretariat/action-lines/{code}?done=saved", status_code=303)


async def _requests_page(
    request: Request, *, error: ForumError | None = None, status: int = 200
) -> Response:
    async with db(request) as session:
        pending = await list_pending_family_requests(session)
    values: dict[str, Any] = {
        "pending": pending,
        "error": error,
        "notice": request.query_params.get("done"),
    }
    return render(
        request, "secretariat/family_requests.html", await context(request, **values), status
    )


async def family_requests_page(request: Request) -> Response:
    await secretariat(request)
    return await _requests_page(request)


async def decide_family_request_form(request: Request) -> Response:
    caller, form = await secretariat_form(request)
    decision = field(form, "decision")
    try:
        if decision not in {"approve", "refuse"}:
            raise ForumError(
                ErrorCode.VALIDATION, N_("Approve or refuse the request."), field="decision"
            )
        async with db(request) as session:
            await do_decide_family_request(
                session,
                app_state(request)["broker"],
                actor=caller.user,
                request_id=request.path_params["request_id"],
                approve=decision == "approve",
            )
    except ForumError as error:
        return await _requests_page(request, error=error, status=error.status)
    done = "approved" if decision == "approve" else "refused"
    return RedirectResponse(f"/secretariat/family-requests?done={done}", status_code=303)


routes = [
    Route("/secretariat/action-lines", action_lines_page, methods=["GET"]),
    Route("/secretariat/action-lines/{code}", action_line_page, methods=["GET"]),
    Route("/secretariat/action-lines/{code}", edit_action_line_form, methods=["POST"]),
    Route("/secretariat/family-requests", family_requests_page, methods=["GET"]),
    Route(
        "/secretariat/family-requests/{request_id:id}",
        decide_family_request_form,
        methods=["POST"],
    ),
]
