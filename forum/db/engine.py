"""The async engine, its sessions, and the write transaction.

SQLite (the embedded default) runs in WAL mode with foreign keys on and, by default,
`synchronous=FULL`: WAL with NORMAL survives a killed process but a power cut can lose
the last commits, which the forum has already acknowledged. Its transactions
start DEFERRED, so two writers can both read and then deadlock on the upgrade to a
write lock; a transaction that writes (above all one that takes a room's next `seq`)
takes the lock at BEGIN instead, through `write_transaction`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from weakref import WeakKeyDictionary

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import PoolResetState
from sqlalchemy.util.concurrency import await_

from forum.db.one_trip import on_driver_thread

_WRITE = "forum_write"
SQLITE_SYNCHRONOUS = ("FULL", "EXTRA", "NORMAL")


def create_engine(
    url: str, *, sqlite_synchronous: str = "FULL", busy_timeout: float = 30.0, **kwargs: Any
) -> AsyncEngine:
    # A driver error's message carries the statement's bound values (password hashes,
    # e-mail addresses, session token hashes), and that message is what gets logged:
    # every engine hides them, whoever creates it.
    if url.startswith("sqlite"):
        # The pool's rollback of every connection it takes back is a trip to the
        # driver's thread even after a commit: `on_reset` rolls back only what is open.
        kwargs.setdefault("pool_reset_on_return", None)
        engine = _create_async_engine(
            url, connect_args={"timeout": busy_timeout}, hide_parameters=True, **kwargs
        )
        _configure_sqlite(engine, sqlite_synchronous, busy_timeout)
        return engine
    return _create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)


def _configure_sqlite(engine: AsyncEngine, synchronous: str, busy_timeout: float) -> None:
    synchronous = synchronous.upper()
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"sqlite synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}")

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine.pool, "reset")
    def on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # SQLite says whether a transaction is open (`in_transaction` reads a flag of the
        # connection; the driver's thread is idle while the pool holds it). A connection
        # collected without being returned (not `asyncio_safe`) is not rolled back by
        # the pool either: its transaction ends with it.
        if state.asyncio_safe and dbapi_connection.driver_connection._conn.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        begin_sqlite(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_sqlite(conn: Connection, statement: str) -> None:
    """Every transaction opens with this: one trip to aiosqlite's thread rather than the
    three of a statement through a cursor (open, execute, close). A failure (the lock
    held by another process past `busy_timeout`) is the error SQLAlchemy would raise."""
    driver = conn.connection.driver_connection
    if not isinstance(driver, aiosqlite.Connection):
        conn.exec_driver_sql(statement)
        return
    try:
        await_(on_driver_thread(driver, lambda: driver._conn.execute(statement).close()))
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, (), error, sqlite3.Error) from error
    # Heard by the engine's statement listeners, as it was through a cursor.
    conn.dispatch.after_cursor_execute(conn, None, statement, (), None, False)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def write_transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """The one transaction of an action: commits on exit, rolls back on error.

    It must be the outermost transaction (like Zulip's `durable=True`): an action that
    ran inside another's transaction could publish an event that is then rolled back.
    """
    if session.in_transaction():
        raise RuntimeError("write_transaction must be the outermost transaction")
    lock = _sqlite_writer_lock(session)
    if lock is None:
        async with session.begin():
            await session.connection(execution_options={_WRITE: True})
            yield session
        return
    # SQLite has one writer at a time. Writers of this process queue here, in order,
    # instead of in SQLite's busy handler, which polls with sleeps of up to 100 ms and
    # turns a burst of posts into a long tail. Other processes still meet the busy
    # handler; that is what `busy_timeout` is for.
    async with lock, session.begin():
        await session.connection(execution_options={_WRITE: True})
        yield session


_writer_locks: WeakKeyDictionary[Engine, asyncio.Lock] = WeakKeyDictionary()


def _sqlite_writer_lock(session: AsyncSession) -> asyncio.Lock | None:
    bind = session.bind
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return None
    return writer_lock(bind)


def writer_lock(bind: AsyncEngine) -> asyncio.Lock:
    """The lock this process's writers of a SQLite database queue on, in order."""
    engine = bind.sync_engine
    lock = _writer_locks.get(engine)
    if lock is None:
        lock = _writer_locks[engine] = asyncio.Lock()
    return lock


async def end_read(session: AsyncSession) -> None:
    """End the transaction a lookup began, keeping what it loaded.

    A handler reads (the group, the thread) before the action writes, and the write
    must be the outermost transaction. Committing a read changes nothing and, unlike a
    rollback, does not expire the loaded objects (`expire_on_commit=False`).
    """
    if session.in_transaction():
        await session.commit()
