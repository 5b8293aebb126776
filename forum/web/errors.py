"""Errors handled in one place: every refusal is `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging
from typing import cast

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.templating import Jinja2Templates

from forum.db.failures import database_unavailable
from forum.errors import ErrorCode, ForumError
from forum.web.refusals import audit_refusal

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.BAD_REQUEST,
    413: ErrorCode.TOO_LARGE,
}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def error_response(request: Request, error: ForumError) -> Response:
    audit_refusal(request, error)
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, int(error.retry_after + 0.999)))
    if _wants_html(request):
        templates = cast(Jinja2Templates, request.app.state.templates)
        return templates.TemplateResponse(
            request, "error.html", {"error": error}, status_code=error.status, headers=headers
        )
    return JSONResponse({"error": error.body()}, status_code=error.status, headers=headers)


async def forum_error(request: Request, exc: Exception) -> Response:
    return error_response(request, cast(ForumError, exc))


async def http_error(request: Request, exc: Exception) -> Response:
    exc = cast(HTTPException, exc)
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
    message = "Not found." if exc.status_code == 404 else str(exc.detail)
    error = ForumError(code, message, status=exc.status_code)
    response = error_response(request, error)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def database_error(request: Request, exc: Exception) -> Response:
    """The database failed under a request: 503 `unavailable`, never an answer that
    something was stored. Other database errors (refused input, a bug) stay a 500."""
    if request.scope["type"] != "http" or not database_unavailable(exc):
        raise exc
    # Only the class: a driver's message can carry the statement's bound values.
    log.warning(
        "database unavailable during %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    error = ForumError(
        ErrorCode.UNAVAILABLE, "The database is unavailable; try again shortly.", retry_after=5
    )
    return error_response(request, error)


def server_error_response(request: Request, request_id: str) -> Response:
    """The one answer to an unexpected error: a 500 naming the request's id (the line
    the log holds), which closes the connection, since what failed may have left the
    request's body unread."""
    error = ForumError(
        ErrorCode.SERVER_ERROR,
        f"Something went wrong on our side (request {request_id}).",
        request_id=request_id,
    )
    headers = {"x-request-id": request_id, "connection": "close"}
    try:
        response = error_response(request, error)
    except Exception:  # noqa: BLE001 - the page itself may be what fails
        response = HTMLResponse(f"<h1>{error.message}</h1>", status_code=500)
    response.headers.update(headers)
    return response
