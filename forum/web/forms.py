"""Reading HTML forms: bounded in size, CSRF-checked unless the caller says why not."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request

from forum.auth import CSRF_FIELD
from forum.errors import N_, ErrorCode, ForumError
from forum.web.http import check_csrf, principal

MAX_FORM_BYTES = 256 * 1024


async def read_form_unchecked(request: Request) -> FormData:
    """The form without the CSRF check: for a caller that checks it itself."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise ForumError(ErrorCode.TOO_LARGE, N_("The form is too large."))
    return await request.form(max_files=0, max_fields=50, max_part_size=MAX_FORM_BYTES)


async def read_form(request: Request) -> FormData:
    form = await read_form_unchecked(request)
    await principal(request)  # who, for the security log, should the check refuse
    value = form.get(CSRF_FIELD)
    check_csrf(request, value if isinstance(value, str) else None)
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""
