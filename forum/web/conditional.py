"""Conditional GET: strong entity tags and 304 answers (RFC 9110 §13), and the answers
kept whole in memory (`Kept`), headers and all."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

# What one reader got may be what another gets only if it does not depend on who
# asks (who, and in which language): say so to shared caches, and make every reuse
# ask us first (`no-cache`).
VARY = "Authorization, Cookie, Accept-Language"


def matches(request: Request, etag: str) -> bool:
    """Whether `If-None-Match` names this representation (RFC 9110 §13.1.2)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def validator_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "no-cache", "Vary": VARY}


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers=validator_headers(etag))


@dataclass(frozen=True, slots=True)
class Kept:
    """A 200 answer as it is sent again and again: its entity tag, and its headers
    encoded once, so that a hit neither hashes its key nor builds a header."""

    body: bytes
    etag: str
    raw_headers: tuple[tuple[bytes, bytes], ...]


def keep(body: bytes, media_type: str, etag: str) -> Kept:
    # The headers Starlette gives such a response, in its order, encoded by it.
    built = Response(body, media_type=media_type, headers=validator_headers(etag))
    return Kept(body, etag, tuple(built.raw_headers))


class KeptResponse(Response):
    """A `Kept` answer sent as it is: the body is not copied, the headers not rebuilt."""

    def __init__(self, kept: Kept) -> None:
        self.status_code = 200
        self.background = None
        self.body = kept.body
        # A list of its own: the middlewares add theirs to it.
        self.raw_headers = list(kept.raw_headers)
