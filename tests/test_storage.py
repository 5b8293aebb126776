"""Migrations, the seed and the settings, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.engine import create_engine, write_transaction
from forum.db.migrate import upgrade
from forum.db.models import ActionLine, Base, Group, GroupActionLine
from forum.db.seed import load_seed_file, seed_structure
from forum.settings import Settings, normalize_database_url
from tests.support import live_server


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    lines = await session.scalar(select(func.count()).select_from(ActionLine))
    groups = await session.scalar(select(func.count()).select_from(Group))
    links = await session.scalar(select(func.count()).select_from(GroupActionLine))
    return int(lines or 0), int(groups or 0), int(links or 0)


async def test_seed_is_idempotent(session: AsyncSession) -> None:
    before = await counts(session)
    await session.commit()
    assert await seed_structure(session) == 0
    assert await counts(session) == before
    data = load_seed_file()
    assert before[0] == len(data["action_lines"]) + len(data["themes"])
    assert before[1] == len(data["groups"])


async def test_seed_updates_titles_in_place(session: AsyncSession) -> None:
    data = load_seed_file()
    data["action_lines"][0]["title"] = "Renamed"
    before = await counts(session)
    await session.commit()
    assert await seed_structure(session, data) == 0
    assert await counts(session) == before
    line = await session.scalar(select(ActionLine).where(ActionLine.code == "C1"))
    assert line is not None and line.title == "Renamed"


def test_seed_file_is_consistent() -> None:
    data = load_seed_file()
    codes = {a["code"] for a in data["action_lines"]} | {t["code"] for t in data["themes"]}
    assert [a["code"] for a in data["action_lines"]] == [f"C{n}" for n in range(1, 12)]
    slugs = [g["slug"] for g in data["groups"]]
    assert len(slugs) == len(set(slugs))
    for group in data["groups"]:
        assert set(group["action_lines"]) <= codes, group["slug"]
    kinds = [g["kind"] for g in data["groups"]]
    assert kinds.count("bureau") == 3
    assert {g["slug"] for g in data["groups"] if g["kind"] == "team"} >= {
        "ct-coordination",
        "ct-drafting",
        "ct-speakers",
        "ct-translation",
    }


async def test_migrations_match_the_models(database_url: str) -> None:
    """Every table, column and index of the models exists after the migrations."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(
                lambda sync: {
                    name: {c["name"] for c in inspect(sync).get_columns(name)}
                    for name in inspect(sync).get_table_names()
                }
            )
            indexes = await connection.run_sync(
                lambda sync: {
                    (name, index["name"], tuple(index["column_names"]))
                    for name in inspect(sync).get_table_names()
                    for index in inspect(sync).get_indexes(name)
                }
            )
    finally:
        await engine.dispose()
    for table in Base.metadata.sorted_tables:
        assert table.name in tables, table.name
        assert {c.name for c in table.columns} <= tables[table.name], table.name
        for index in table.indexes:
            columns = tuple(c.name for c in index.columns)
            assert (table.name, index.name, columns) in indexes, index.name


async def test_migration_0006_makes_the_rooms_groups_lack(database_url: str) -> None:
    """Groups made while rooms were made on first use get theirs, as new rooms are."""
    from alembic import command

    from forum.db.migrate import alembic_config
    from forum.db.models import Room

    def downgrade_to_0005(sync: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync
        command.downgrade(config, "0005_presence_lookups")

    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(downgrade_to_0005)
            await connection.execute(text("DELETE FROM rooms"))
        await upgrade(engine)
        async with AsyncSession(engine) as session:
            groups = set((await session.scalars(select(Group.id))).all())
            rooms = (await session.scalars(select(Room))).all()
    finally:
        await engine.dispose()
    assert groups and sorted(r.group_id or 0 for r in rooms) == sorted(groups)
    room = rooms[0]
    assert (room.last_seq, room.queue_policy, room.observer_seats, room.queue) == (
        0,
        "fifo",
        {"civil_society": 1},
        [],
    )
    assert room.floor is None and room.spoken == {} and room.created_at.tzinfo is not None


async def test_migrations_are_idempotent_and_foreign_keys_hold(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        await upgrade(engine)
        async with engine.connect() as connection:
            heads = (
                (await connection.execute(text("SELECT version_num FROM alembic_version")))
                .scalars()
                .all()
            )
            assert heads and all(heads)
        async with AsyncSession(engine) as session:
            with pytest.raises(Exception, match="(?i)foreign key"):
                async with write_transaction(session):
                    session.add(GroupActionLine(group_id=987654, action_line_id=987654))
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path, sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_sqlite_syncs_every_commit_unless_told_otherwise(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The app's own engine, on a real connection: FULL (2) by default, so an
    acknowledged write survives a power cut; NORMAL (1) when the operator chooses it."""
    env = {"FORUM_DATA_DIR": str(tmp_path), "FORUM_SECRET_KEY": "k" * 40}
    for chosen, expected in ((None, 2), ("normal", 1)):
        extra = {"FORUM_SQLITE_SYNCHRONOUS": chosen} if chosen else {}
        settings = Settings.from_env({**env, **extra}, database_url=sqlite_url)
        async with live_server(settings) as live, live.state["engine"].connect() as connection:
            pragma = await connection.execute(text("PRAGMA synchronous"))
            assert pragma.scalar() == expected
    with pytest.raises(ValueError, match="synchronous"):
        create_engine(sqlite_url, sqlite_synchronous="OFF")


async def test_write_transaction_must_be_outermost(session: AsyncSession) -> None:
    async with session.begin():
        with pytest.raises(RuntimeError):
            async with write_transaction(session):
                pass


async def test_first_start_creates_database_secret_and_seed(tmp_path: Path) -> None:
    env = {"FORUM_DATA_DIR": str(tmp_path / "data")}
    settings = Settings.from_env(env)
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.exists() and settings.secret_key == key_file.read_text()
    assert len(settings.secret_key) >= 40
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert Settings.from_env(env).secret_key == settings.secret_key
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    async with live_server(settings):
        pass
    async with live_server(settings):
        pass  # a second start adds nothing twice
    db = sqlite3.connect(tmp_path / "data" / "agora.db")
    try:
        assert db.execute(
            "SELECT count(*) FROM action_lines WHERE kind='action_line'"
        ).fetchone() == (11,)
        assert db.execute("SELECT count(*) FROM groups").fetchone()[0] == len(
            load_seed_file()["groups"]
        )
    finally:
        db.close()


def test_secret_key_from_environment_wins(tmp_path: Path) -> None:
    settings = Settings.from_env({"FORUM_DATA_DIR": str(tmp_path), "FORUM_SECRET_KEY": "k" * 40})
    assert settings.secret_key == "k" * 40
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_urls_are_normalized(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_uvicorn_gets_explicit_websocket_limits() -> None:
    options = Settings(database_url="sqlite://", secret_key="k").uvicorn_ws_options()
    assert options["ws_max_size"] == 16 * 1024
    assert options["ws_per_message_deflate"] is False
    assert options["ws_ping_interval"] + options["ws_ping_timeout"] <= 30


def test_environment_is_not_read_when_given_explicitly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORUM_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("FORUM_WS_MAX_SIZE", "999")
    monkeypatch.setenv("FORUM_POST_LIMIT", "7")
    settings = Settings.from_env(
        {"FORUM_DATA_DIR": str(tmp_path), "FORUM_SECRET_KEY": "k" * 40, "FORUM_WS_MAX_SIZE": "2048"}
    )
    assert settings.ws_max_size == 2048
    assert settings.broker_url == "memory://"
    assert settings.post_limit == Settings.post_limit
    # And the process's environment when none is given.
    assert Settings.from_env(data_dir=tmp_path).ws_max_size == 999


def test_migrations_form_one_line() -> None:
    """One head: the next migration has one parent, and `alembic upgrade head` works."""
    from alembic.script import ScriptDirectory

    from forum.db.migrate import alembic_config

    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
