"""Reading HTML forms: bounded in size, CSRF-checked unless the caller says why not or
signed in by bearer token."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request

from forum.auth import CSRF_FIELD
from forum.errors import N_, ErrorCode, ForumError
from forum.web.http import app_state, check_csrf, principal, refuse_unstorable


async def _read(request: Request) -> FormData:
    limit = app_state(request)["settings"].max_request_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ForumError(ErrorCode.TOO_LARGE, N_("The form is too large."))
    return await request.form(max_files=0, max_fields=50, max_part_size=limit)


def _refuse_unstorable(form: FormData) -> None:
    for name, item in form.multi_items():  # each pair: a field may come twice
        if isinstance(item, str):
            refuse_unstorable({name: item})


async def read_form_unchecked(request: Request) -> FormData:
    """The form without the CSRF check: for a caller that checks it itself."""
    form = await _read(request)
    _refuse_unstorable(form)
    return form


async def read_form(request: Request) -> FormData:
    form = await _read(request)
    caller = await principal(request)  # who, for the security log, should the check refuse
    # A bearer token is sent by a program, never attached by a browser on its own: as
    # for the JSON API (`require_principal`), there is no forgery to check for.
    if caller is None or caller.kind != "bearer":
        value = form.get(CSRF_FIELD)
        check_csrf(request, value if isinstance(value, str) else None)
    _refuse_unstorable(form)
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""
