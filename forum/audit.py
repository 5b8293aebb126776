"""One structured line for each refusal that matters for security.

Who (user id, if known), from where (address, origin), what (path) and why (code), as
`key=value` pairs in the message and as record attributes for structured handlers.
Never a password, token, cookie or hash: callers pass none, and values are truncated.
Each transport logs its refusals where it turns them into an answer, because only it
knows the address and the origin: `forum/web/refusals.py` and the WebSocket endpoint.
"""

from __future__ import annotations

import logging

from forum.errors import ErrorCode, ForumError

security_log = logging.getLogger("forum.security")

# The refusals of RELIABILITY rows 5-11: CSRF and origin, authentication, authorization,
# sizes, rate limits and sign-in.
_AUDITED_STATUS = frozenset({401, 403, 413, 429})
_AUDITED_CODES = frozenset({ErrorCode.TOO_LARGE, ErrorCode.RATE_LIMITED})


def audited(error: ForumError) -> bool:
    return error.status in _AUDITED_STATUS or error.code in _AUDITED_CODES


def log_refusal(
    code: str,
    *,
    ip: str | None,
    origin: str | None = None,
    user_id: int | None = None,
    path: str | None = None,
    detail: str | None = None,
) -> None:
    fields = {
        "code": code,
        "ip": ip,
        "origin": origin,
        "user_id": user_id,
        "path": path,
        "detail": detail,
    }
    shown = {k: str(v)[:200] for k, v in fields.items() if v is not None}
    security_log.warning(
        "refused %s",
        " ".join(f"{k}={v!r}" for k, v in shown.items()),
        extra={f"forum_{k}": v for k, v in shown.items()} | {"code": code},
    )
