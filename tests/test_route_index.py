"""The route index finds, for any path and method, the route the plain walk finds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

from forum.web.route_index import RouteIndex
from forum.web.routes import build_routes
from forum.ws.endpoint import routes as ws_routes

ROUTES = [*build_routes(), *ws_routes()]
INDEX = RouteIndex(ROUTES)
# Every literal segment any route names, and values its parameters take.
LITERALS = sorted(
    {part for route in ROUTES for part in getattr(route, "path", "").split("/") if "{" not in part}
)
KINDS = [("http", m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")] + [("websocket", "")]
VALUES = ["12", "0", "C7", "c7", "caucus-gender", "x.atom", "forum.css", "", "%2F", "-1"]


def walk(scope: Scope) -> tuple[Match, BaseRoute | None]:
    """What Starlette's router does: the first full match, else the first partial."""
    partial = None
    for route in ROUTES:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return match, route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, None)


def indexed(scope: Scope) -> tuple[Match, BaseRoute | None]:
    match, child = INDEX.matches(scope)
    return match, child.get("forum.route")


def scope(kind: str, path: str, method: str = "GET") -> Scope:
    found: Scope = {"type": kind, "path": path, "root_path": "", "headers": []}
    if kind == "http":
        found["method"] = method
    return found


def sample_paths() -> list[str]:
    """Each route's path with every parameter filled by each sample value."""
    paths: list[str] = []
    for route in ROUTES:
        template = getattr(route, "path", "")
        if isinstance(route, Mount):
            template += "/forum.css"
        paths.extend(re.sub(r"{[^}]+}", value, template) for value in VALUES)
    return paths


def test_every_route_is_found_where_the_walk_finds_it() -> None:
    reached: set[int] = set()
    for path in sample_paths():
        for kind, method in KINDS:
            s = scope(kind, path, method)
            assert indexed(s) == walk(s), (kind, method, path)
            match, route = walk(s)
            if match is Match.FULL:
                reached.add(id(route))
    # The samples reach every route (so the comparison covered each).
    assert {id(route) for route in ROUTES} - reached == set()


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(LITERALS) | st.sampled_from(VALUES) | st.text(max_size=6), max_size=4),
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]),
    st.booleans(),
)
def test_any_path_meets_the_same_route(parts: list[str], method: str, slash: bool) -> None:
    path = "/" + "/".join(parts) + ("/" if slash and parts else "")
    s = scope("http", path, method)
    assert indexed(s) == walk(s)
