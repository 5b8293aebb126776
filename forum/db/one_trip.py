"""A block of statements run in one trip to the database driver.

On SQLite every statement of the async engine is several round trips between the
event loop and the driver's thread (open a cursor, execute, fetch, close), each a
future, a thread wake-up and a hand-over of the GIL, plus the ORM's bookkeeping: a
reply's seven statements cost milliseconds of CPU for microseconds of SQLite. A
`Block` is a plain function that runs its statements one after another and decides
between them (it may raise a `ForumError`); `run_block` runs all of it in one trip:

- SQLite: on the driver's own thread, on its `sqlite3` connection, each statement
  compiled once for the process (SQL text, the order of its parameters, the type
  processing of its parameters and its columns). A driver error comes out as the
  SQLAlchemy error the engine would have raised (`forum.db.failures` reads those).
- PostgreSQL: in the greenlet of `AsyncConnection.run_sync`, through SQLAlchemy as
  any statement (asyncpg is one trip per statement whatever is done).

Either way the block runs inside the session's transaction: it begins before (the
write lock of `write_transaction`), and commits or rolls back after, as for any
statement of the session. Statements are Core (tables, not entities) and give plain
tuples; they are meant to be module constants, so that each compiles once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import aiosqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import Executable

T = TypeVar("T")
Row = tuple[Any, ...]


class Statements(Protocol):
    def rows(self, statement: Executable, params: Mapping[str, Any]) -> list[Row]:
        """Execute `statement`; its rows (none for a statement that returns none)."""


Block = Callable[[Statements], T]


async def run_block(session: AsyncSession, block: Block[T]) -> T:
    """Run `block` in the session's transaction, in one trip to the driver."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if isinstance(driver, aiosqlite.Connection):
        return await _on_sqlite(connection, driver, block)
    return await connection.run_sync(lambda sync: block(_Through(sync)))


async def read_alone(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any]
) -> list[Row]:
    """The rows of one read that needs no transaction of its own (one statement is one
    snapshot), on a connection of the session's engine that begins none: on SQLite a
    single trip to the driver, where a session's read is three (begin, the statement,
    the rollback). The session itself is left as it was."""
    return await read_block(session, lambda s: s.rows(statement, params))


async def read_block(session: AsyncSession, block: Block[T]) -> T:
    """`read_alone` for a block of reads: in one trip, each statement its own snapshot
    (no transaction holds them together), for reads that need not agree."""
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("read_block needs a session bound to an engine")
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if isinstance(driver, aiosqlite.Connection):
            # No BEGIN: the driver runs in autocommit (`isolation_level = None`, set on
            # connect), so each statement is its own transaction, and the pool, seeing
            # none open, gives the connection back without a rollback.
            return await _on_sqlite(connection, driver, block)
        return await connection.run_sync(lambda sync: block(_Through(sync)))


async def _on_sqlite(
    connection: AsyncConnection, driver: aiosqlite.Connection, block: Block[T]
) -> T:
    sync = connection.sync_connection
    assert sync is not None  # noqa: S101 - a started connection has one
    listened = bool(sync.dispatch.after_cursor_execute)
    statements = SqliteStatements(driver._conn, connection.dialect, heard=listened)
    try:
        return await on_driver_thread(driver, lambda: block(statements))
    finally:
        # What listens to the engine's statements (a statement counter, a log) hears
        # these too, once they have run, as if through a cursor.
        for sql, bound in statements.ran:
            sync.dispatch.after_cursor_execute(sync, None, sql, bound, None, False)


async def on_driver_thread(driver: aiosqlite.Connection, call: Callable[[], T]) -> T:
    """`call()` on the thread of aiosqlite's connection, where its `_conn` may be used.

    aiosqlite does this for each of its own calls through `_execute`; its public
    methods each run one call of `sqlite3` there, a trip apiece."""
    return cast(T, await driver._execute(call))  # type: ignore[no-untyped-call]


class _Through:
    """Statements through SQLAlchemy's own connection (PostgreSQL)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def rows(self, statement: Executable, params: Mapping[str, Any]) -> list[Row]:
        result = self.connection.execute(statement, dict(params))
        return [tuple(row) for row in result] if result.returns_rows else []


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    binds: Mapping[str, Callable[[Any], Any]]
    compiled: SQLCompiler
    results: tuple[Callable[[Any], Any] | None, ...]


_compiled: dict[Executable, _Compiled] = {}


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    found = _compiled.get(statement)
    if found is not None:
        return found
    compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
    binds = {}
    for name, bind in compiled.binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            binds[name] = processor
    columns = getattr(statement, "exported_columns", ())
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    found = _Compiled(compiled.string, tuple(compiled.positiontup or ()), binds, compiled, results)
    _compiled[statement] = found
    return found


class SqliteStatements:
    """Statements on the `sqlite3` connection itself, on the driver's thread."""

    def __init__(self, connection: sqlite3.Connection, dialect: Dialect, *, heard: bool) -> None:
        self.connection = connection
        self.dialect = dialect
        self.heard = heard
        self.ran: list[tuple[str, list[Any]]] = []

    def plain(self, sql: str) -> None:
        """A statement with no parameters and no rows (BEGIN, a savepoint)."""
        try:
            self.connection.execute(sql).close()
        except sqlite3.Error as error:
            raise DBAPIError.instance(sql, (), error, sqlite3.Error) from error
        if self.heard:
            self.ran.append((sql, []))

    def rows(self, statement: Executable, params: Mapping[str, Any]) -> list[Row]:
        compiled = _compile(statement, self.dialect)
        values = compiled.compiled.construct_params(dict(params))
        binds = compiled.binds
        bound = [
            binds[name](values[name]) if name in binds else values[name] for name in compiled.names
        ]
        try:
            cursor = self.connection.execute(compiled.sql, bound)
            fetched: Sequence[Row] = cursor.fetchall()
            cursor.close()
            if self.heard:
                self.ran.append((compiled.sql, bound))
        except sqlite3.Error as error:
            raise DBAPIError.instance(
                compiled.sql, bound, error, sqlite3.Error, hide_parameters=True
            ) from error
        processors = compiled.results
        if not any(processors):
            return list(fetched)
        return [
            tuple(
                value if processor is None else processor(value)
                for processor, value in zip(processors, row, strict=True)
            )
            for row in fetched
        ]
