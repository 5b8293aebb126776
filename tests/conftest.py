"""Fixtures: databases (SQLite always; PostgreSQL when reachable, and required in CI),
settings, and a live uvicorn server per test."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions import admission
from forum.db.engine import create_engine, make_sessionmaker
from forum.limits import MemoryRateLimiter
from forum.settings import Settings
from tests.board_world import Board, make_board
from tests.capture import EventCapture, QueryCounter
from tests.databases import IN_CI, TEMPLATE_DB, admin_url, pg_admin, prepare
from tests.room_world import World, make_world
from tests.support import (
    Client,
    FakeClock,
    LiveServer,
    WallClock,
    client,
    live_server,
    make_settings,
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "agora.db"
    asyncio.run(prepare(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated, seeded template database; each test gets a copy (CREATE ... TEMPLATE)."""
    try:
        asyncio.run(
            pg_admin(
                f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)",
                f"CREATE DATABASE {TEMPLATE_DB}",
            )
        )
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    asyncio.run(prepare(admin_url(TEMPLATE_DB)))
    yield TEMPLATE_DB
    asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated and seeded database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "agora.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"agora_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield admin_url(name)
    asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only, for tests of the transport rather than of the storage."""
    path = tmp_path / "agora.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def empty_postgres(postgres_template: str) -> Iterator[str]:
    """A PostgreSQL database with nothing in it, not even the forum's tables: where a
    restore or a move goes."""
    del postgres_template  # requested for its skip (or failure in CI) when unreachable
    name = f"agora_empty_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(f"CREATE DATABASE {name}"))
    yield admin_url(name)
    asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def window_clock(monkeypatch: pytest.MonkeyPatch) -> WallClock:
    """The clock access windows are read against, moved by hand."""
    fake = WallClock()
    monkeypatch.setattr(admission, "clock", fake)
    return fake


@pytest.fixture
def limiter(clock: FakeClock) -> MemoryRateLimiter:
    return MemoryRateLimiter(clock=clock)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def server(settings: Settings, limiter: MemoryRateLimiter) -> AsyncIterator[LiveServer]:
    """A real uvicorn server on a free port, on SQLite and on PostgreSQL."""
    async with live_server(settings, limiter=limiter) as live:
        yield live


@pytest.fixture
async def sqlite_server(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> AsyncIterator[LiveServer]:
    """A real uvicorn server on SQLite only."""
    async with live_server(make_settings(sqlite_url, tmp_path), limiter=limiter) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[Client]:
    async with client(server) as c:
        yield c


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A database session straight on the storage, without a server."""
    engine = create_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            yield s
    finally:
        await engine.dispose()


@pytest.fixture
async def world(session: AsyncSession) -> World:
    """A room of the seed, its cast of people and a recorded broker (tests/room_world.py)."""
    return await make_world(session)


@pytest.fixture
async def board(session: AsyncSession) -> Board:
    """A board of the seed, its people and a recorded broker (tests/board_world.py)."""
    return await make_board(session)


@pytest.fixture
def capture_events() -> EventCapture:
    """`async with capture_events(server, threads=(id,), expected=n) as events:`"""
    return EventCapture()


@pytest.fixture
def count_queries() -> QueryCounter:
    """`with count_queries(engine) as queries:`"""
    return QueryCounter()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from tests.browser import chromium

    async with chromium() as instance:
        yield instance
