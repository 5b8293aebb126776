"""`run.py move-database`: an embedded SQLite forum filled through the real server,
moved to an empty PostgreSQL database, is the same forum there, and carries on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from forum import move_cli
from forum.db.engine import create_engine
from forum.db.models import Presence, Room
from forum.db.transfer import copied_tables
from tests.ops_support import carries_on, fill_forum, seen
from tests.support import live_server, make_settings

ROOT = Path(__file__).resolve().parent.parent


async def refused(source: str, target: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The command's exit status and what it said, run in this process (a refusal
    needs no fresh interpreter; the successful move below runs `run.py` itself)."""
    status = await asyncio.to_thread(move_cli.move, ["--from", source, "--to", target])
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def move(source: str, target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "move-database", "--from", source, "--to", target],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
        check=False,
    )


def plain(url: str) -> str:
    """The URL as an operator types it (run.py picks the async drivers)."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "")


async def table_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: int(
                    await connection.scalar(select(func.count()).select_from(table)) or 0
                )
                for table in copied_tables()
            }
    finally:
        await engine.dispose()


async def leave_a_ghost(url: str, user_id: int) -> None:
    """A presence row of a worker that died, as a crashed server leaves it."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            room_id = await connection.scalar(select(Room.id).limit(1))
            await connection.execute(
                insert(Presence).values(
                    id=str(uuid.uuid4()),
                    room_id=room_id,
                    user_id=user_id,
                    seat="remote",
                    family="government",
                    worker=str(uuid.uuid4()),
                )  # fmt: skip
            )
    finally:
        await engine.dispose()


async def test_a_sqlite_forum_moves_to_postgresql_without_losing_a_post(
    sqlite_url: str, empty_postgres: str, tmp_path: Path
) -> None:
    async with live_server(make_settings(sqlite_url, tmp_path)) as server:
        filled = await fill_forum(server)
        before = await seen(server, filled)
    await leave_a_ghost(sqlite_url, filled.people[1].id)
    counts = await table_counts(sqlite_url)

    done = move(plain(sqlite_url), plain(empty_postgres))
    assert done.returncode == 0, done.stderr
    assert "row counts match" in done.stdout
    assert await table_counts(empty_postgres) == counts

    async with live_server(make_settings(empty_postgres, tmp_path)) as server:
        assert server.state["settings"].database_url.startswith("postgresql")
        # The seed of a start matches what was moved and adds nothing.
        assert await table_counts(empty_postgres) == counts
        assert await seen(server, filled) == before
        await carries_on(server, filled, before)
        # Nobody is in a room of a stopped forum: the dead worker's row stayed behind.
        async with server.state["sessionmaker"]() as session:
            assert await session.scalar(select(func.count()).select_from(Presence)) == 0


async def test_a_target_that_holds_data_is_refused_and_left_as_it_was(
    sqlite_template: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await table_counts(database_url)
    assert before["action_lines"] > 0  # the seed of a start
    said = await refused(f"sqlite:///{sqlite_template}", plain(database_url), capsys)
    assert "already holds data" in said and "nothing was written" in said
    assert await table_counts(database_url) == before


async def test_a_source_behind_the_code_or_missing_is_refused(
    empty_postgres: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said = await refused(f"sqlite:///{tmp_path / 'none.db'}", plain(empty_postgres), capsys)
    assert "no SQLite database" in said
    assert not (tmp_path / "none.db").exists()
    old = tmp_path / "old.db"
    engine = create_engine(f"sqlite+aiosqlite:///{old}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    await engine.dispose()
    said = await refused(f"sqlite:///{old}", plain(empty_postgres), capsys)
    assert "start the forum on it once" in said
    engine = create_engine(empty_postgres)
    async with engine.connect() as connection:
        tables = await connection.scalar(
            text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        )
    await engine.dispose()
    assert tables == 0
    said = await refused(f"sqlite:///{old}", f"sqlite:///{old}", capsys)
    assert "the same database" in said
