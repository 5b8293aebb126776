"""What the application's lifespan hands to every request and WebSocket."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from forum.board_versions import BoardVersions
from forum.broker import Broker
from forum.connection_caps import ConnectionCaps
from forum.limits import RateLimiter
from forum.render_cache import RenderCache
from forum.session_cache import SessionCache
from forum.settings import Settings

if TYPE_CHECKING:
    # For the type checker only. At run time this module imports nothing of ws, so web,
    # which reads the state, stays independent of ws (the import contracts count only
    # run-time imports: `exclude_type_checking_imports` in pyproject.toml).
    from forum.ws.hub import Hub
    from forum.ws.seating import ActionSeating


class AppState(TypedDict):
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    broker: Broker
    limiter: RateLimiter
    # Open WebSockets and event streams, counted at accept and released at the end.
    connection_caps: ConnectionCaps
    # This worker's rendered thread pages (see forum/render_cache.py).
    render_cache: RenderCache
    # Each board's change counter as this worker last heard it (forum/board_versions.py).
    board_versions: BoardVersions
    # Who each session is, as this worker last read it (forum/session_cache.py).
    session_cache: SessionCache
    # The WebSocket hub of this worker.
    hub: Hub
    # What its connections take and give up in rooms: seats, spectator places.
    seating: ActionSeating
