"""Copy a whole forum from one database to another: the embedded SQLite file to
PostgreSQL, when a forum outgrows one process.

The target must hold no row of any forum table (a forum already started on it holds
the seed): the copy keeps every id, so two forums cannot be merged this way. It is
migrated to the head the code knows, the source must already be there (a start
migrates it), and then, in one transaction on the target, every table is copied in
foreign-key order, in batches, each ordered by its primary key so that a reply comes
after the post it answers. The source is read in one transaction too, so the copy is
one snapshot of it. PostgreSQL's sequences are moved past the largest id copied (rows
were inserted with their ids, which a sequence does not see), the rows of each table
are counted on both sides, and only when every count matches is the target committed.

Not copied: who is in a room right now (`room_presence`), which nobody is while the
forum is stopped, and the search index of SQLite, which is not a table of the models:
PostgreSQL computes its own (a generated column), and an SQLite target fills its FTS
table from the triggers of its migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Integer, Table, func, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from forum.db.engine import create_engine
from forum.db.migrate import alembic_config, upgrade
from forum.db.models import Base

BATCH = 1000
NOT_COPIED = frozenset({"room_presence"})


class MoveRefusedError(Exception):
    """The move would lose or mix data; nothing was written."""


class MoveFailedError(Exception):
    """The copy did not match the source; the target's transaction was rolled back."""


@dataclass(frozen=True)
class Moved:
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def copied_tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_COPIED]


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _existing(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _counts(connection: AsyncConnection, tables: list[Table]) -> dict[str, int]:
    present = await connection.run_sync(_existing)
    counts: dict[str, int] = {}
    for table in tables:
        if table.name in present:
            counts[table.name] = int(
                await connection.scalar(select(func.count()).select_from(table)) or 0
            )
    return counts


def _sqlite_file_missing(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


async def _copy(source: AsyncConnection, target: AsyncConnection, table: Table) -> int:
    copied = 0
    result = await source.stream(select(table).order_by(*table.primary_key.columns))
    async for batch in result.mappings().partitions(BATCH):
        await target.execute(table.insert(), [dict(row) for row in batch])
        copied += len(batch)
    return copied


def _has_sequence(table: Table) -> bool:
    columns = list(table.primary_key.columns)
    return (
        len(columns) == 1 and isinstance(columns[0].type, Integer) and not columns[0].foreign_keys
    )


async def _move_sequences(target: AsyncConnection, tables: list[Table]) -> None:
    """Each serial id continues after the largest copied (from 1 in an empty table)."""
    if target.dialect.name != "postgresql":
        return  # SQLite hands out max(rowid) + 1 by itself.
    for table in filter(_has_sequence, tables):
        column = next(iter(table.primary_key.columns)).name
        await target.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608 - names from the models
                f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {table.name}"
            ),
            {"table": table.name, "column": column},
        )


async def move_database(source_url: str, target_url: str) -> Moved:
    """Copy every row of the forum at `source_url` into the empty `target_url`."""
    if make_url(source_url) == make_url(target_url):
        raise MoveRefusedError("The source and the target are the same database.")
    missing = _sqlite_file_missing(source_url)
    if missing is not None:
        raise MoveRefusedError(f"There is no SQLite database at {missing}.")
    tables = copied_tables()
    head = _head()
    source = create_engine(source_url)
    target = create_engine(target_url)
    try:
        async with source.connect() as connection:
            revision = await connection.run_sync(_revision)
        if revision != head:
            raise MoveRefusedError(
                f"The source is at migration {revision or 'none'}, this code at {head}: "
                "start the forum on it once (a start migrates it), stop it, then move."
            )
        async with target.connect() as connection:
            held = {name: n for name, n in (await _counts(connection, tables)).items() if n}
        if held:
            listed = ", ".join(f"{name} ({n})" for name, n in sorted(held.items()))
            raise MoveRefusedError(
                f"The target already holds data: {listed}. Move into an empty database "
                "(created, never started the forum on); nothing was written."
            )
        await upgrade(target)
        async with source.connect() as reader, reader.begin(), target.begin() as writer:
            expected = await _counts(reader, tables)
            rows = {table.name: await _copy(reader, writer, table) for table in tables}
            await _move_sequences(writer, tables)
            found = await _counts(writer, tables)
            if not (expected == rows == found):
                raise MoveFailedError(
                    f"Row counts differ (source {expected}, copied {rows}, target {found}); "
                    "the target was left empty."
                )
        return Moved(rows)
    finally:
        await source.dispose()
        await target.dispose()
