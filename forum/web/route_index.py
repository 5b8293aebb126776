"""Routes found by their first path segments instead of one by one.

Starlette's router tries each route's pattern in turn until one matches. With well over
a hundred routes that walk costs more than a bare endpoint's whole request (figures:
`python -m bench.routes`, in docs/benchmarks.md). The
index tries only the routes that can match: those whose path starts with the request's
first two segments (or a parameter or a mount where they are), in the order they were
given, so the first match is the one the plain walk would have found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound
from starlette.types import Receive, Scope, Send

# Where the route that matched waits for `handle`, in the request's scope.
_MATCHED = "forum.route"
# A request's segment that no route names literally.
_OTHER = object()

Key = tuple[object, object]


def _segments(route: BaseRoute) -> tuple[str | None, str | None]:
    """The first two segments of a route's path, None where any segment matches: a
    parameter, or all that follows a mount's prefix."""
    path: str = getattr(route, "path", "/{}")
    parts = path.lstrip("/").split("/")
    first = None if "{" in parts[0] else parts[0]
    if isinstance(route, Mount) or first is None:
        return first, None
    second = parts[1] if len(parts) > 1 else ""
    return first, None if "{" in second else second


def _request_segments(path: str) -> tuple[str, str]:
    parts = path.lstrip("/").split("/", 2)
    return parts[0], parts[1] if len(parts) > 1 else ""


class RouteIndex(BaseRoute):
    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = list(routes)
        shapes = [(route, *_segments(route)) for route in self.routes]
        self._firsts = {first for _, first, _ in shapes if first is not None}
        self._seconds: dict[object, set[str]] = {}
        for first in (*self._firsts, _OTHER):
            self._seconds[first] = {
                second for _, f, second in shapes if f in (first, None) and second is not None
            }
        self._candidates: dict[Key, tuple[BaseRoute, ...]] = {}
        for first, seconds in self._seconds.items():
            for second in (*seconds, _OTHER):
                self._candidates[first, second] = tuple(
                    route for route, f, s in shapes if f in (first, None) and s in (second, None)
                )

    def _key(self, path: str) -> Key:
        first, second = _request_segments(path)
        k1: object = first if first in self._firsts else _OTHER
        return k1, second if second in self._seconds[k1] else _OTHER

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self._candidates[self._key(path)]:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return match, {**child, _MATCHED: route}
            if match is Match.PARTIAL and partial is None:
                partial = (route, child)
        if partial is not None:
            # A path some route serves, with another method: that route answers 405.
            return Match.PARTIAL, {**partial[1], _MATCHED: partial[0]}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope[_MATCHED]
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)
