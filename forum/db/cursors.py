"""Keyset cursors: opaque to clients (a base64 of the keyset values), and checked when
they come back, since anyone can type one. What a cursor holds goes to the database as
bound values: it must be storable text, and its numbers must fit their columns."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from forum.db.base import ID_MAX
from forum.errors import N_, ErrorCode, ForumError
from forum.storable import unstorable_text


def _invalid() -> ForumError:
    return ForumError(ErrorCode.VALIDATION, N_("The cursor is not valid."), field="cursor")


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    parts = raw.split("|")
    if len(parts) != count or not all(parts) or unstorable_text(raw) is not None:
        raise _invalid()
    return parts


def decode_time_and_id(cursor: str) -> tuple[datetime, int]:
    """A (moment, id) cursor, as a board's: the moment aware, the id one a row can have."""
    at, row_id = decode_cursor(cursor, 2)
    try:
        moment, number = datetime.fromisoformat(at), int(row_id)
    except ValueError:
        raise _invalid() from None
    if moment.tzinfo is None or not 0 <= number <= ID_MAX:
        raise _invalid()
    return moment, number
