"""The application: `create_app(settings)` wires storage, broker and routes together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

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
from forum.ws.direct_send import RawSend
from forum.ws.endpoint import routes as ws_routes
from forum.ws.hub import Hub
from forum.ws.seating import ActionSeating
from forum.ws.timers import Timers

log = logging.getLogger(__name__)
# The drivers log every statement with its bound values at DEBUG: password hashes and
# session token hashes among them. Keep them quiet whatever the root level.
for _name in ("aiosqlite", "asyncpg", "sqlalchemy.engine"):
    logging.getLogger(_name).setLevel(logging.WARNING)


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
        try:
            yield {
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
        finally:
            board_versions.close()
            await timers.stop()
            await hub.stop()
            await seating.close()
            await shared.close()
            await broker.close()
            await engine.dispose()

    app = Starlette(
        routes=[RouteIndex([*build_routes(), *ws_routes()])],
        middleware=[
            # Outermost first: the server's own WebSocket `send`, before anything wraps
            # it, for writing room frames to its transport (`forum.ws.direct_send`).
            Middleware(RawSend),
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
