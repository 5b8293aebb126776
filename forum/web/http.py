"""What every JSON handler needs: the app's state, a database session, the caller,
the CSRF check, and request bodies parsed into models with clear errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from forum.audit import log_refusal
from forum.auth import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    Principal,
    authenticate,
    csrf_matches,
)
from forum.errors import ErrorCode, ForumError
from forum.state import AppState
from forum.storable import find_unstorable

M = TypeVar("M", bound=BaseModel)
_UNSET = object()


def app_state(request: Request) -> AppState:
    return cast(AppState, request.scope["state"])


@asynccontextmanager
async def db(request: Request) -> AsyncIterator[AsyncSession]:
    async with app_state(request)["sessionmaker"]() as session:
        yield session


def secure_cookies(request: Request) -> bool:
    """Cookies get `Secure` over HTTPS: when the operator says so, or when this request
    came over HTTPS (directly, or through a trusted proxy's X-Forwarded-Proto)."""
    return app_state(request)["settings"].secure_cookies or request.url.scheme == "https"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


async def principal(request: Request) -> Principal | None:
    """The signed-in caller, looked up once per request."""
    cached = request.scope.get("forum.principal", _UNSET)
    if cached is not _UNSET:
        return cast(Principal | None, cached)
    state = app_state(request)
    async with state["sessionmaker"]() as session:
        found = await authenticate(
            session,
            state["settings"].secret_key,
            cookie=request.cookies.get(SESSION_COOKIE),
            authorization=request.headers.get("authorization"),
        )
    request.scope["forum.principal"] = found
    return found


def check_csrf(request: Request, given: str | None) -> None:
    """Double-submit check: the token sent must be this browser's CSRF cookie."""
    if not csrf_matches(request.cookies.get(CSRF_COOKIE), given):
        log_refusal(
            "csrf_failed",
            ip=client_ip(request),
            origin=request.headers.get("origin"),
            path=request.url.path,
        )
        raise ForumError(
            ErrorCode.CSRF,
            "The form's security token is missing or wrong; reload the page and try again.",
        )


async def require_principal(request: Request) -> Principal:
    """The caller of a state-changing request: signed in and, with a cookie, CSRF-checked."""
    found = await principal(request)
    if found is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, "Sign in first.")
    if found.kind == "cookie" and request.method not in {"GET", "HEAD", "OPTIONS"}:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return found


async def read_json(request: Request, model: type[M]) -> M:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ForumError(ErrorCode.UNSUPPORTED, "Send the body as application/json.")
    limit = app_state(request)["settings"].max_request_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ForumError(ErrorCode.TOO_LARGE, f"The request body is over {limit} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ForumError(ErrorCode.TOO_LARGE, f"The request body is over {limit} bytes.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ForumError(ErrorCode.INVALID_JSON, f"The body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ForumError(ErrorCode.INVALID_JSON, "The body must be a JSON object.")
    refuse_unstorable(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def refuse_unstorable(data: Any) -> None:
    """Parsed input holding text no column can store is refused, whatever field it is in."""
    found = find_unstorable(data)
    if found is not None:
        where, problem = found
        raise ForumError(
            ErrorCode.VALIDATION, f"The field '{where}' holds {problem}.", field=where or None
        )


def validation_error(exc: ValidationError) -> ForumError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    kind = first["type"]
    if kind == "missing":
        message = f"The field '{field}' is required."
    elif kind in {"string_too_long", "too_long"}:
        return ForumError(
            ErrorCode.TOO_LARGE, f"The field '{field}' is too long.", status=422, field=field
        )
    else:
        message = f"The field '{field}' is invalid: {first['msg']}."
    return ForumError(ErrorCode.VALIDATION, message, field=field)


def query_int(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION, f"'{name}' must be a whole number.", field=name
        ) from None
    if not low <= value <= high:
        raise ForumError(
            ErrorCode.VALIDATION, f"'{name}' must be between {low} and {high}.", field=name
        )
    return value
