"""Machine-readable errors.

Every refusal in Agora is a `ForumError`: a stable `code` clients can switch on, the
HTTP status it maps to, and a human message. HTTP handlers turn it into
`{"error": {"code", "message", ...}}`; the WebSocket endpoint into an error frame.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    INVALID_JSON = "invalid_json"
    VALIDATION = "validation_error"
    TOO_LARGE = "too_large"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    CSRF = "csrf_failed"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    EMAIL_TAKEN = "email_taken"
    WEAK_PASSWORD = "weak_password"  # noqa: S105 - an error code, not a secret
    INVALID_CREDENTIALS = "invalid_credentials"
    RATE_LIMITED = "rate_limited"
    BUREAU_LIMIT = "bureau_limit"
    ALREADY_MEMBER = "already_member"
    NOT_MEMBER = "not_member"
    LOCKED = "locked"
    OBSERVER_CANNOT_SPEAK = "observer_cannot_speak"
    NO_SEAT = "no_seat_available"
    SESSION_NOT_OPEN = "session_not_open"
    FLOOR_HELD = "floor_held"
    FLOOR_REQUIRED = "floor_required"
    UNSUPPORTED = "unsupported"
    SERVER_ERROR = "server_error"


_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.INVALID_JSON: 400,
    ErrorCode.VALIDATION: 422,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CSRF: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.EMAIL_TAKEN: 409,
    ErrorCode.WEAK_PASSWORD: 422,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.BUREAU_LIMIT: 409,
    ErrorCode.ALREADY_MEMBER: 409,
    ErrorCode.NOT_MEMBER: 404,
    ErrorCode.LOCKED: 423,
    ErrorCode.OBSERVER_CANNOT_SPEAK: 403,
    ErrorCode.NO_SEAT: 409,
    ErrorCode.SESSION_NOT_OPEN: 409,
    ErrorCode.FLOOR_HELD: 409,
    ErrorCode.FLOOR_REQUIRED: 403,
    ErrorCode.UNSUPPORTED: 415,
    ErrorCode.SERVER_ERROR: 500,
}


class ForumError(Exception):
    """A refusal: nothing was written, nothing was published."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int | None = None,
        field: str | None = None,
        retry_after: float | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else _STATUS[code]
        self.field = field
        self.retry_after = retry_after
        self.extra = extra

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.retry_after is not None:
            error["retry_after_ms"] = int(self.retry_after * 1000)
        error.update(self.extra)
        return error

    def __repr__(self) -> str:
        return f"ForumError({self.code!s}, {self.message!r})"
