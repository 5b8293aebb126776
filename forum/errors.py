"""Machine-readable errors.

Every refusal in Agora is a `ForumError`: a stable `code` clients can switch on, the
HTTP status it maps to, and a human message. HTTP handlers turn it into
`{"error": {"code", "message", ...}}`; the WebSocket endpoint into an error frame.

The message is an English msgid marked with `N_` where it is raised, its `{name}`
placeholders filled from the error's keyword arguments; it is translated into the
reader's language only where the body or frame is built (docs/i18n.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for the marker
    """Mark `message` for the catalogs; it is translated where it is shown."""
    return message


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
    SEAT_REVOKED = "seat_revoked"
    SESSION_NOT_OPEN = "session_not_open"
    SESSION_NOT_CLOSED = "session_not_closed"
    FLOOR_HELD = "floor_held"
    FLOOR_REQUIRED = "floor_required"
    NOT_PRESENT = "not_present"
    UNSUPPORTED = "unsupported"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    UNAVAILABLE = "unavailable"
    SERVER_ERROR = "server_error"
    BUDGET_EXCEEDS_SESSION = "budget_exceeds_session"
    FAMILY_TIME_EXHAUSTED = "family_time_exhausted"
    NOT_INVITED = "not_invited"
    NOT_CONSULTATION_CHAIR = "not_consultation_chair"
    DELEGATION_TOO_LARGE = "delegation_too_large"
    WINDOW_CLOSED = "access_window_closed"
    WINDOW_PAST_SESSION = "window_past_session"
    NO_OBSERVER_SEATS = "no_observer_seats"
    OBSERVER_REQUEST_PENDING = "observer_request_pending"
    NOT_CONTACT_POINT = "not_contact_point"
    CONTACT_REQUEST_PENDING = "contact_request_pending"


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
    ErrorCode.SEAT_REVOKED: 403,
    ErrorCode.SESSION_NOT_OPEN: 409,
    ErrorCode.SESSION_NOT_CLOSED: 409,
    ErrorCode.FLOOR_HELD: 409,
    ErrorCode.FLOOR_REQUIRED: 403,
    ErrorCode.NOT_PRESENT: 409,
    ErrorCode.UNSUPPORTED: 415,
    ErrorCode.TOO_MANY_CONNECTIONS: 429,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.SERVER_ERROR: 500,
    ErrorCode.BUDGET_EXCEEDS_SESSION: 422,
    ErrorCode.FAMILY_TIME_EXHAUSTED: 409,
    ErrorCode.NOT_INVITED: 403,
    ErrorCode.NOT_CONSULTATION_CHAIR: 403,
    ErrorCode.DELEGATION_TOO_LARGE: 422,
    ErrorCode.WINDOW_CLOSED: 403,
    ErrorCode.WINDOW_PAST_SESSION: 422,
    ErrorCode.NO_OBSERVER_SEATS: 409,
    ErrorCode.OBSERVER_REQUEST_PENDING: 409,
    ErrorCode.NOT_CONTACT_POINT: 422,
    ErrorCode.CONTACT_REQUEST_PENDING: 409,
}


def fill(message: str, values: Mapping[str, object]) -> str:
    """`message` with its `{name}` placeholders filled; a translation that names a
    placeholder the error does not carry keeps the braces rather than failing."""
    try:
        return message.format_map(values)
    except (KeyError, IndexError, ValueError):
        return message


class Phrase(str):
    """A value of a message that is itself interface text ("a NUL character ({point})"):
    its msgid marked with `N_` where it is made, translated with the message it fills,
    its own placeholders filled from `params`. As a string it is the English text."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, **params: object) -> Phrase:
        phrase = super().__new__(cls, fill(msgid, params))
        phrase.msgid = msgid
        phrase.params = params
        return phrase

    def translated(self, gettext: Callable[[str], str]) -> str:
        return fill(gettext(self.msgid), self.params)


class ForumError(Exception):
    """A refusal: nothing was written, nothing was published.

    `message` is the English msgid; `params` fill its placeholders and are not sent;
    `extra` fills them too and is sent in the body, beside `code` and `message`.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int | None = None,
        field: str | None = None,
        retry_after: float | None = None,
        params: Mapping[str, object] | None = None,
        subject_id: int | None = None,
        **extra: Any,
    ) -> None:
        # The account a refusal concerns when the caller is nobody yet (a failed
        # sign-in): for the security log only, never sent.
        self.subject_id = subject_id
        self.code = code
        self.msgid = message
        self.params: dict[str, object] = {**extra, **(params or {})}
        self.message = fill(message, self.params)
        super().__init__(self.message)
        self.status = status if status is not None else _STATUS[code]
        self.field = field
        self.retry_after = retry_after
        self.extra = extra

    def translated(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message in the reader's language (English without `gettext`)."""
        if gettext is None:
            return self.message
        values = {
            name: value.translated(gettext) if isinstance(value, Phrase) else value
            for name, value in self.params.items()
        }
        return fill(gettext(self.msgid), values)

    def body(self, gettext: Callable[[str], str] | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": str(self.code), "message": self.translated(gettext)}
        if self.field is not None:
            error["field"] = self.field
        if self.retry_after is not None:
            error["retry_after_ms"] = int(self.retry_after * 1000)
        error.update(self.extra)
        return error

    def __repr__(self) -> str:
        return f"ForumError({self.code!s}, {self.message!r})"
