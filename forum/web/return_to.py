"""Where a sign-in returns: the page one was on, carried as `next`, when it is a path
of this site; anything else returns home, so that a link cannot send a newcomer who
signs in to another site (an open redirect)."""

from __future__ import annotations

from starlette.requests import Request

HOME = "/"
_MAX = 2000


def local_path(value: str | None) -> str:
    """`value` when it is a path here (one leading `/`), else the home page.

    `//host` and `/\\host` are read by browsers as another host, and browsers drop tabs
    and newlines from a URL before reading it, so any control character is refused
    too rather than stripped.
    """
    if not value or len(value) > _MAX or not value.startswith("/"):
        return HOME
    if value.startswith("//") or "\\" in value:
        return HOME
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return HOME
    return value


def here(request: Request) -> str:
    """The `next` a sign-in link carries from this page: the page itself, or on the
    sign-in and registration pages the `next` they were given."""
    if request.url.path in {"/login", "/register"}:
        return local_path(request.query_params.get("next"))
    query = request.url.query
    return local_path(request.url.path + (f"?{query}" if query else ""))
