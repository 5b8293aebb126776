"""Finding a request's route: Starlette's walk over every route against the index by
the first two path segments (forum/web/route_index.py), on the routes the app serves.

    .venv/bin/python -m bench.routes

In-process, no network: the best of five repeats of 20,000 matches per path.
"""

from __future__ import annotations

import timeit
from functools import partial

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from forum.web.route_index import RouteIndex
from forum.web.routes import build_routes
from forum.ws.endpoint import routes as ws_routes

PATHS = ("/", "/threads/12", "/api/threads/12", "/static/forum.css", "/meetings/3/room")
NUMBER = 20_000


def walk(routes: list[BaseRoute], scope: Scope) -> None:
    for route in routes:
        if route.matches(scope)[0] is Match.FULL:
            return


def main() -> None:
    routes = [*build_routes(), *ws_routes()]
    index = RouteIndex(routes)
    print(f"{len(routes)} routes")
    print("| path | walk µs | index µs |")
    print("|---|---:|---:|")
    for path in PATHS:
        scope: Scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        plain = min(timeit.repeat(partial(walk, routes, scope), number=NUMBER, repeat=5))
        found = min(timeit.repeat(partial(index.matches, scope), number=NUMBER, repeat=5))
        print(f"| `{path}` | {plain / NUMBER * 1e6:.1f} | {found / NUMBER * 1e6:.1f} |")


if __name__ == "__main__":
    main()
