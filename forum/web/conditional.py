"""Conditional GET: strong entity tags and 304 answers (RFC 9110 §13)."""

from __future__ import annotations

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
