"""The reader of a request: the language and time zone its page or error is shown in,
and the switcher that chooses them."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.profile import do_set_locale
from forum.errors import N_, ErrorCode, ForumError
from forum.i18n.negotiate import LANGUAGE_COOKIE, supported
from forum.i18n.reader import Reader, reader_of, valid_time_zone
from forum.web.forms import field, read_form_unchecked
from forum.web.http import check_csrf, check_origin, db, principal, secure_cookies

_YEAR = 365 * 24 * 3600


def reader_for(connection: HTTPConnection, language: str | None, time_zone: str | None) -> Reader:
    return reader_of(
        language=language,
        time_zone=time_zone,
        cookie=connection.cookies.get(LANGUAGE_COOKIE),
        accept_language=connection.headers.get("accept-language"),
    )


def browser_reader(connection: HTTPConnection) -> Reader:
    """The reader as the browser alone says: cookie, then Accept-Language."""
    return reader_for(connection, None, None)


async def reader(request: Request) -> Reader:
    """The reader of this request, the profile first; looked up once per request."""
    cached = request.scope.get("forum.reader")
    if isinstance(cached, Reader):
        return cached
    caller = await principal(request)
    user = caller.user if caller else None
    found = reader_for(request, user.language if user else None, user.time_zone if user else None)
    request.scope["forum.reader"] = found
    return found


def _local_path(target: str) -> str:
    """Where to go back to: a path of this site only, never another host."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target if "\\" not in target else "/"


async def change_language(request: Request) -> Response:
    """The switcher: a cookie for the browser and, signed in, the profile's language.

    Signed out, the form carries no CSRF token (the shared page it sits on is the same
    for every reader, see pages_discussions.thread_page) and only sets a cookie; a
    request from another site is still refused (`check_origin`). Signed in, it writes
    the profile and checks the token like every form.
    """
    form = await read_form_unchecked(request)
    language = supported(field(form, "language"))
    if language is None:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Choose one of the languages offered."), field="language"
        )
    time_zone = field(form, "time_zone").strip() or None
    if time_zone is not None and valid_time_zone(time_zone) is None:
        raise ForumError(ErrorCode.VALIDATION, N_("Unknown time zone."), field="time_zone")
    caller = await principal(request)
    if caller is not None:
        check_csrf(request, field(form, "csrf_token") or None)
        async with db(request) as session:
            await do_set_locale(session, caller.user.id, language=language, time_zone=time_zone)
    else:
        check_origin(request)
    response = RedirectResponse(_local_path(field(form, "next")), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=_YEAR,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    return response


routes = [Route("/language", change_language, methods=["POST"])]
