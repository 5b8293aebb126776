"""Errors handled in one place: every refusal is `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging
from typing import cast

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.templating import Jinja2Templates

from forum.db.failures import database_unavailable
from forum.errors import N_, ErrorCode, ForumError
from forum.i18n.reader import Reader
from forum.web.locale import browser_reader, reader
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


# Starlette's own refusals (no route, wrong method) carry English details; say the same
# in words of the catalogs.
_HTTP_MESSAGES = {
    400: N_("The request is not valid."),
    401: N_("Sign in first."),
    403: N_("You may not do this."),
    404: N_("Not found."),
    405: N_("This address does not accept this method."),
    413: N_("The request is too large."),
}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


async def _reader(request: Request) -> Reader:
    try:
        return await reader(request)
    except Exception:  # noqa: BLE001 - the profile is out of reach (the database failed)
        log.warning("no profile language for an error on %s", request.url.path)
        return browser_reader(request)


def _known_reader(request: Request) -> Reader:
    """The reader without asking the database: where it fails, or before routing."""
    found = request.scope.get("forum.reader")
    return found if isinstance(found, Reader) else browser_reader(request)


def refusal_response(request: Request, error: ForumError, shown_to: Reader) -> Response:
    """The one place a refusal becomes a body: its message in `shown_to`'s language."""
    audit_refusal(request, error)
    headers = {"Vary": "Accept-Language, Cookie", "Content-Language": shown_to.language}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, int(error.retry_after + 0.999)))
    if _wants_html(request):
        templates = cast(Jinja2Templates, request.app.state.templates)
        context = {
            "error": error,
            "message": error.translated(shown_to.gettext),
            "reader": shown_to,
        }
        return templates.TemplateResponse(
            request, "error.html", context, status_code=error.status, headers=headers
        )
    return JSONResponse(
        {"error": error.body(shown_to.gettext)}, status_code=error.status, headers=headers
    )


async def error_response(request: Request, error: ForumError) -> Response:
    """A refusal's response, in the language of the request's reader (profile first)."""
    return refusal_response(request, error, await _reader(request))


def early_error_response(request: Request, error: ForumError) -> Response:
    """The same, before routing or after a failure: in the browser's language."""
    return refusal_response(request, error, _known_reader(request))


async def forum_error(request: Request, exc: Exception) -> Response:
    return await error_response(request, cast(ForumError, exc))


async def http_error(request: Request, exc: Exception) -> Response:
    exc = cast(HTTPException, exc)
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
    message = _HTTP_MESSAGES.get(exc.status_code, N_("The request cannot be served."))
    error = ForumError(code, message, status=exc.status_code)
    response = await error_response(request, error)
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
        ErrorCode.UNAVAILABLE, N_("The database is unavailable; try again shortly."), retry_after=5
    )
    # In the browser's language: the reader's profile is in the database that failed.
    return early_error_response(request, error)


def server_error_response(request: Request, request_id: str) -> Response:
    """The one answer to an unexpected error: a 500 naming the request's id (the line
    the log holds), which closes the connection, since what failed may have left the
    request's body unread."""
    error = ForumError(
        ErrorCode.SERVER_ERROR,
        N_("Something went wrong on our side (request {request_id})."),
        request_id=request_id,
    )
    headers = {"x-request-id": request_id, "connection": "close"}
    try:
        response = early_error_response(request, error)
    except Exception:  # noqa: BLE001 - the page itself may be what fails
        response = HTMLResponse(f"<h1>{error.message}</h1>", status_code=500)
    response.headers.update(headers)
    return response
