"""Which exceptions mean "the database is unavailable", as opposed to input it could
not take or a bug.

A server that is gone, a connection cut (`pg_terminate_backend`, a restart), a lock
held past the busy timeout: SQLAlchemy's operational and interface errors, and, while
a new connection is opened, the socket's own errors, which asyncpg does not wrap.
A caller answers those `unavailable` (HTTP 503): nothing was stored, and trying again
shortly may work, since the pool checks a connection before each use (pre-ping) and
opens a new one once the server is back.
"""

from __future__ import annotations

import socket

from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)

# Not the database failing: input it refused, or a statement that is wrong.
_NOT_UNAVAILABLE = (DataError, IntegrityError, ProgrammingError)
# Opening a connection: refused, reset, timed out, or the host's name unknown.
CONNECT_ERRORS = (ConnectionError, TimeoutError, socket.gaierror)


# SQLite reports a missing table, as a busy lock, as an OperationalError: only these
# messages are the database being unavailable rather than a bug.
_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "readonly")


def database_unavailable(error: BaseException) -> bool:
    if isinstance(error, _NOT_UNAVAILABLE):
        return False
    if isinstance(error, OperationalError) and type(error.orig).__module__.startswith("sqlite3"):
        return any(word in str(error.orig).lower() for word in _SQLITE_UNAVAILABLE)
    return isinstance(error, (SQLAlchemyError, *CONNECT_ERRORS))
