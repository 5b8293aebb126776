"""The application: `create_app(settings)` wires storage, broker and routes together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from forum.backends import shared_limits
from forum.board_versions import BoardVersions
from forum.broker import create_broker
from forum.connection_caps import ConnectionCaps, ConnectionLimits
from forum.db.engine import create_engine, make_sessionmaker
from forum.db.failures import CONNECT_ERRORS
from forum.db.migrate import prepare
from forum.errors import ForumError
from forum.i18n.catalogs import load_catalogs
from forum.limits import RateLimiter
from forum.render_cache import RenderCache
from forum.session_cache import SessionCache, watch_people
from forum.settings import Settings
from forum.state import AppState
from forum.web.edge import HttpEdge
from forum.web.errors import database_error, forum_error, http_error
from forum.web.route_index import RouteIndex
from forum.web.routes import build_routes
from forum.web.templates import make_templates
from forum.ws.direct_send import RAW_SEND
from forum.ws.endpoint import PATH as WS_PATH
from forum.ws.endpoint import room_endpoint
from forum.ws.hub import Hub
from forum.ws.seating import ActionSeating
from forum.ws.timers import Timers

log = logging.getLogger(__name__)
# The drivers log every statement with its bound values at DEBUG: password hashes and
# session token hashes among them. Keep them quiet whatever the root level.
for _name in ("aiosqlite", "asyncpg", "sqlalchemy.engine"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class Forum(Starlette):
    """Starlette, with WebSocket scopes sent straight to the room endpoint.

    The HTTP middlewares, Starlette's error and exception layers and its router would
    each pass a WebSocket scope on untouched, and each keep a coroutine frame (and the
    exception layers a `send` wrapper) for the life of the connection: kilobytes a
    listener, thousands of listeners. A WebSocket scope here meets only what it needs:
    the server's own `send` kept for `forum.ws.direct_send`, then `/ws`'s own checks
    (Origin, credentials, caps: `forum.ws.endpoint`). Any other path is refused before
    accept, which the server answers 403, as Starlette's router does.

    uvicorn gives every connection a copy of the lifespan's state, which a listener
    would hold for hours; a WebSocket scope gets the lifespan's own instead (nothing on
    `/ws` writes to it).
    """

    # The state the lifespan yielded, while it runs.
    shared_state: AppState | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        if self.shared_state is not None:
            scope["state"] = self.shared_state
        # The server's `send`, before anything wraps it: room frames are written to
        # its transport.
        scope[RAW_SEND] = send
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path == WS_PATH:
            await room_endpoint(WebSocket(scope, receive, send))
        else:
            await send({"type": "websocket.close", "code": 1000, "reason": ""})


def create_app(
    settings: Settings | None = None, *, limiter: RateLimiter | None = None
) -> Starlette:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        # Compiled once per process, here rather than on a first request: a broken
        # catalog stops the start instead of failing pages.
        load_catalogs()
        if settings.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            busy_timeout=settings.db_busy_timeout,
        )
        sessionmaker = make_sessionmaker(engine)
        added = await prepare(engine, seed=settings.seed)
        if added:
            log.info("seeded %d rows of the WSIS structure", added)
        broker = create_broker(settings.broker_url)
        await broker.start()
        shared = shared_limits(settings, limiter=limiter)
        await shared.start()
        seating = ActionSeating(sessionmaker, broker)
        hub = Hub(sessionmaker, broker, send_queue=settings.ws_send_queue, seating=seating)
        await hub.start()
        # The clocks of live rooms: floor expiry, the presence heartbeat, the watchdog.
        timers = Timers(sessionmaker, broker, hub)
        await timers.start()
        board_versions = BoardVersions(broker, trust_s=settings.board_trust_s)
        session_cache = SessionCache(trust_s=settings.session_trust_s)
        watch_people(engine, session_cache)
        state: AppState = {
            "settings": settings,
            "engine": engine,
            "sessionmaker": sessionmaker,
            "broker": broker,
            "limiter": shared.limiter,
            "render_cache": RenderCache(),
            "board_versions": board_versions,
            "session_cache": session_cache,
            "connection_caps": ConnectionCaps(
                shared.counter, ConnectionLimits.from_settings(settings)
            ),
            "hub": hub,
            "seating": seating,
        }
        if isinstance(app, Forum):
            app.shared_state = state
        try:
            yield state
        finally:
            if isinstance(app, Forum):
                app.shared_state = None
            board_versions.close()
            await timers.stop()
            await hub.stop()
            await seating.close()
            await shared.close()
            await broker.close()
            await engine.dispose()

    # HTTP only: WebSocket scopes do not reach these (`Forum`).
    app = Forum(
        routes=[RouteIndex(build_routes())],
        middleware=[
            # Every answer, a refusal or a 500 too, gets the headers; compression, the
            # 500 of an unexpected error, the address check and the write hint, in one
            # layer (`forum.web.edge`).
            Middleware(
                HttpEdge,
                hsts=settings.secure_cookies,
                window_s=settings.board_trust_s,
                secure=settings.secure_cookies,
            ),
        ],
        exception_handlers={
            ForumError: forum_error,
            HTTPException: http_error,
            SQLAlchemyError: database_error,
            **dict.fromkeys(CONNECT_ERRORS, database_error),
        },
        lifespan=lifespan,
    )
    app.state.templates = make_templates()
    app.state.settings = settings
    return app
