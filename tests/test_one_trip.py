"""Blocks of statements in one trip to the driver (`forum.db.one_trip`), and the SQLite
engine's own trips: its BEGIN, and the pool taking connections back."""

from __future__ import annotations

from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Table, bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.engine import create_engine, write_transaction
from forum.db.models import ActionLine
from forum.db.one_trip import Statements, on_driver_thread, read_alone, run_block

_lines = ActionLine.__table__
assert isinstance(_lines, Table)
_CODE = select(_lines.c.id, _lines.c.facilitators).where(_lines.c.code == bindparam("code"))
_NEW_LINE = insert(_lines).values(
    code=bindparam("code"),
    kind="theme",
    title="T",
    description="",
    facilitators=bindparam("facilitators"),
    position=0,
)


async def test_a_block_reads_and_writes_in_the_transaction_of_the_session(
    session: AsyncSession,
) -> None:
    def block(statements: Statements) -> list[Any]:
        statements.rows(_NEW_LINE, {"code": "T1", "facilitators": ["a", "b"]})
        return statements.rows(_CODE, {"code": "T1"})

    async with write_transaction(session):
        rows = await run_block(session, block)
    # The column's type read it back (JSON), and the write was committed with the rest.
    assert rows[0][1] == ["a", "b"]
    assert await read_alone(session, _CODE, {"code": "T1"}) == rows


async def test_a_block_that_fails_rolls_back_with_the_error_of_sqlalchemy(
    session: AsyncSession,
) -> None:
    def twice(statements: Statements) -> None:
        statements.rows(_NEW_LINE, {"code": "T2", "facilitators": []})
        statements.rows(_NEW_LINE, {"code": "T2", "facilitators": []})

    with pytest.raises(IntegrityError):
        async with write_transaction(session):
            await run_block(session, twice)
    assert await read_alone(session, _CODE, {"code": "T2"}) == []


async def test_the_engines_listeners_hear_the_statements_of_a_block(
    session: AsyncSession,
) -> None:
    heard: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        heard.append(" ".join(statement.split()))

    engine = session.bind
    assert engine is not None
    sync = engine.sync_engine
    event.listen(sync, "after_cursor_execute", listen)
    try:
        async with write_transaction(session):
            await run_block(session, lambda s: s.rows(_CODE, {"code": "C1"}))
        await read_alone(session, _CODE, {"code": "C1"})
    finally:
        event.remove(sync, "after_cursor_execute", listen)
    reads = [statement for statement in heard if statement.startswith("SELECT")]
    assert len(reads) == 2 and "action_lines.code" in reads[0]


async def test_read_alone_leaves_the_session_as_it_was(session: AsyncSession) -> None:
    assert await read_alone(session, _CODE, {"code": "C1"})
    assert not session.in_transaction()


async def test_a_connection_given_back_in_a_transaction_is_rolled_back(
    sqlite_url: str,
) -> None:
    """The pool rolls back only a connection that SQLite says has a transaction open:
    one begun on the driver itself, which SQLAlchemy does not know of, is rolled back
    when it comes back, and the next user of the connection does not find it open."""
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            found = raw.driver_connection
            assert isinstance(found, aiosqlite.Connection)
            driver: aiosqlite.Connection = found

            def begin_and_write() -> None:
                driver._conn.execute("BEGIN")
                driver._conn.execute("INSERT INTO boards (action_line_id, last_seq) VALUES (1, 7)")

            await on_driver_thread(driver, begin_and_write)
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            again = raw.driver_connection
            assert again is driver  # the pool's one connection, given back and taken again
            assert not driver._conn.in_transaction
            count = await on_driver_thread(
                driver, lambda: driver._conn.execute("SELECT count(*) FROM boards").fetchone()
            )
        assert count == (0,)
    finally:
        await engine.dispose()
