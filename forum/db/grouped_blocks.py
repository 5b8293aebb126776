"""Blocks of several writers in one SQLite transaction, in one trip (group commit).

SQLite has one writer at a time, and each transaction is a BEGIN, its statements, and a
COMMIT that syncs the WAL to disk (`synchronous=FULL`). With many writers at once they
queue on the writer lock (`forum.db.engine.writer_lock`), each paying its own trips to
the driver's thread and its own sync. Here a writer hands its block
(`forum.db.one_trip.Block`) to the engine's `BlockGroups` and waits; the blocks handed in
while a group is being written make the next group (`forum.db.group_commit`), written
under the writer lock, in the order they came, as one transaction in one trip:

    BEGIN IMMEDIATE
    SAVEPOINT block; <block 1>; RELEASE block      (or ROLLBACK TO block: it raised)
    SAVEPOINT block; <block 2>; RELEASE block
    ...
    COMMIT

Each block is its own savepoint: one that raises (a refusal, a constraint) leaves no row
behind and its writer gets its error, while the others' rows commit. A writer's answer
comes once the COMMIT has returned, so nothing is acknowledged before it is on disk. If
the BEGIN or the COMMIT fails, or SQLite ends the whole transaction (as it does on some
I/O errors), every writer of the group gets that error and nothing of the group is
written. The engine's statement listeners hear each statement, the savepoints included,
once the group has run, as `run_block`'s are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

import aiosqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from forum.db.engine import writer_lock
from forum.db.group_commit import GroupCommit
from forum.db.one_trip import Block, SqliteStatements, on_driver_thread

T = TypeVar("T")
# The blocks of one transaction at most: a group's trip stays short, and so does the
# wait of the writers behind it.
GROUP_MOST = 64
_BEGIN, _SAVEPOINT, _RELEASE, _UNDO = (
    "BEGIN IMMEDIATE",
    "SAVEPOINT block",
    "RELEASE block",
    "ROLLBACK TO block",
)


@dataclass(frozen=True, slots=True)
class Handed:
    engine: AsyncEngine  # the same for every block of a group: its own (`block_groups`)
    block: Block[Any]
    # Told the block's result when its writer was cancelled once its group had begun:
    # the rows are written, and what follows a commit (the events) is still owed.
    abandoned: Callable[[Any], None] | None = None


class BlockGroups:
    """The group commit of one SQLite engine."""

    def __init__(self) -> None:
        # The engine comes with each block, not kept here: what is kept per engine must
        # not keep the engine alive.
        self.groups: GroupCommit[Handed, Any] = GroupCommit(
            self._write,
            limit=GROUP_MOST,
            abandoned=_abandoned,
            name="post-groups",
        )

    async def run(
        self,
        engine: AsyncEngine,
        block: Block[T],
        *,
        abandoned: Callable[[T], None] | None = None,
    ) -> T:
        """`block`'s result once its group has committed, or what it raised."""
        return cast(T, await self.groups.submit(Handed(engine, block, abandoned)))

    async def _write(self, handed: list[Handed]) -> list[Any]:
        blocks = [item.block for item in handed]
        engine = handed[0].engine
        async with writer_lock(engine), engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            if not isinstance(driver, aiosqlite.Connection):
                raise TypeError("grouped blocks are for SQLite's aiosqlite driver")
            sync = connection.sync_connection
            assert sync is not None  # noqa: S101 - a started connection has one
            statements = SqliteStatements(
                driver._conn, connection.dialect, heard=bool(sync.dispatch.after_cursor_execute)
            )
            try:
                return await on_driver_thread(driver, lambda: _transaction(statements, blocks))
            finally:
                for sql, bound in statements.ran:
                    sync.dispatch.after_cursor_execute(sync, None, sql, bound, None, False)


def _abandoned(item: Handed, result: Any) -> None:
    if item.abandoned is not None:
        item.abandoned(result)


def _transaction(statements: SqliteStatements, blocks: list[Block[Any]]) -> list[Any]:
    """On the driver's thread: each block in its savepoint, all in one transaction; per
    block what it returned or the exception it raised."""
    connection = statements.connection
    statements.plain(_BEGIN)
    outcomes: list[Any] = []
    try:
        for block in blocks:
            statements.plain(_SAVEPOINT)
            try:
                result = block(statements)
            except Exception as error:  # this block's writer raises it
                if not connection.in_transaction:
                    raise  # SQLite ended the transaction: the whole group is lost
                statements.plain(_UNDO)
                statements.plain(_RELEASE)
                outcomes.append(error)
                continue
            statements.plain(_RELEASE)
            outcomes.append(result)
        try:
            connection.commit()
        except sqlite3.Error as error:
            raise DBAPIError.instance("COMMIT", (), error, sqlite3.Error) from error
    except BaseException:
        if connection.in_transaction:
            connection.rollback()
        raise
    return outcomes


_groups: WeakKeyDictionary[Engine, BlockGroups] = WeakKeyDictionary()


async def run_grouped(
    engine: AsyncEngine, block: Block[T], *, abandoned: Callable[[T], None] | None = None
) -> T:
    """`block` in the next group of `engine` (SQLite), its result once committed."""
    groups = _groups.get(engine.sync_engine)
    if groups is None:
        groups = _groups[engine.sync_engine] = BlockGroups()
    return await groups.run(engine, block, abandoned=abandoned)


def block_groups(engine: AsyncEngine) -> BlockGroups | None:
    """The group commit of `engine`, once a block has been handed to it."""
    return _groups.get(engine.sync_engine)
