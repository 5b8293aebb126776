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

from forum import csrf
from forum.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, Principal
from forum.errors import N_, ErrorCode, ForumError
from forum.origins import allowed_origin
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


class LazySession:
    """A database session opened on first use: a read answered from memory opens none."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self._session: AsyncSession | None = None

    async def get(self) -> AsyncSession:
        if self._session is None:
            self._session = app_state(self._request)["sessionmaker"]()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # A context manager of its own rather than a generator's: a read answered from
    # memory pays for two method calls, not for driving a generator.
    async def __aenter__(self) -> LazySession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def lazy_db(request: Request) -> LazySession:
    """A `LazySession` for `async with`: closed at its end, if it was ever opened."""
    return LazySession(request)


def secure_cookies(request: Request) -> bool:
    """Cookies get `Secure` over HTTPS: when the operator says so, or when this request
    came over HTTPS (directly, or through a trusted proxy's X-Forwarded-Proto)."""
    # The scheme as `request.url` reads it, without building the whole URL.
    return app_state(request)["settings"].secure_cookies or request.scope.get("scheme") == "https"


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
    cookie = request.cookies.get(SESSION_COOKIE)
    authorization = request.headers.get("authorization")
    found = None
    # Most readers carry neither: they cost no database session at all.
    if cookie is not None or authorization is not None:
        found = await state["session_cache"].principal(
            state["sessionmaker"],
            state["settings"].secret_key,
            cookie=cookie,
            authorization=authorization,
        )
    request.scope["forum.principal"] = found
    return found


def check_origin(request: Request) -> None:
    """A browser's write must come from the forum's own pages (or an allowed origin)."""
    if not allowed_origin(request, app_state(request)["settings"].allowed_origins):
        raise ForumError(ErrorCode.CSRF, N_("Requests from another site may not change anything."))


def check_csrf(request: Request, given: str | None) -> None:
    """A browser's write: from the forum's own origin, with its session's CSRF token."""
    check_origin(request)
    expected = csrf.expected_token(
        app_state(request)["settings"].secret_key,
        session_cookie=request.cookies.get(SESSION_COOKIE),
        nonce=request.cookies.get(CSRF_COOKIE),
    )
    if not csrf.token_matches(expected, given):
        raise ForumError(
            ErrorCode.CSRF,
            N_("The form's security token is missing or wrong; reload the page and try again."),
        )


async def require_principal(request: Request) -> Principal:
    """The caller of a state-changing request: signed in and, with a cookie, CSRF-checked."""
    found = await principal(request)
    if found is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    if found.kind == "cookie" and request.method not in {"GET", "HEAD", "OPTIONS"}:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return found


async def read_json(request: Request, model: type[M]) -> M:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ForumError(ErrorCode.UNSUPPORTED, N_("Send the body as application/json."))
    limit = app_state(request)["settings"].max_request_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ForumError(
            ErrorCode.TOO_LARGE,
            N_("The request body is over {limit} bytes."),
            params={"limit": limit},
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ForumError(
                ErrorCode.TOO_LARGE,
                N_("The request body is over {limit} bytes."),
                params={"limit": limit},
            )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ForumError(
            ErrorCode.INVALID_JSON,
            N_("The body is not valid JSON: {reason}"),
            params={"reason": str(exc)},
        ) from None
    if not isinstance(data, dict):
        raise ForumError(ErrorCode.INVALID_JSON, N_("The body must be a JSON object."))
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
            ErrorCode.VALIDATION,
            N_("The field '{name}' holds {problem}."),
            field=where or None,
            params={"name": where, "problem": problem},
        )


def validation_error(exc: ValidationError) -> ForumError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    kind = first["type"]
    # Pydantic's own words stay as they are, as the detail; the sentence is ours.
    params = {"name": field, "detail": first["msg"]}
    if kind == "missing":
        message = N_("The field '{name}' is required.")
    elif kind in {"string_too_long", "too_long"}:
        return ForumError(
            ErrorCode.TOO_LARGE,
            N_("The field '{name}' is too long."),
            status=422,
            field=field,
            params=params,
        )
    else:
        message = N_("The field '{name}' is invalid: {detail}.")
    return ForumError(ErrorCode.VALIDATION, message, field=field, params=params)


def query_text(request: Request, name: str) -> str | None:
    # Most reads have no query string: they need not parse one.
    if not request.scope.get("query_string"):
        return None
    return request.query_params.get(name)


def query_int(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = query_text(request, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("'{name}' must be a whole number."),
            field=name,
            params={"name": name},
        ) from None
    if not low <= value <= high:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("'{name}' must be between {low} and {high}."),
            field=name,
            params={"name": name, "low": low, "high": high},
        )
    return value
