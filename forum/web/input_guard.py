"""Text no column can store (`forum.storable`) refused where a request's address is
read: a NUL in the path or the query string is a 400 before any route runs. Bodies are
checked where they are parsed (`read_json`, `read_form`); WebSocket frames in
`ws.protocol.parse_frame`. `forum.web.edge` asks `address_problem` of every request."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import Scope

from forum.errors import N_, ErrorCode, ForumError
from forum.storable import unstorable_text


def address_problem(scope: Scope) -> ForumError | None:
    if (problem := unstorable_text(scope["path"])) is not None:
        return ForumError(
            ErrorCode.BAD_REQUEST,
            N_("The path holds {problem}."),
            field="path",
            params={"problem": problem},
        )
    # Starlette decodes the query leniently (bad UTF-8 becomes U+FFFD), so only a NUL
    # can come through it.
    if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
        return ForumError(
            ErrorCode.BAD_REQUEST, N_("The query string holds a NUL character."), field="query"
        )
    return None
