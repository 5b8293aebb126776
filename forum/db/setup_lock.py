"""The lock that makes the setup of a database (migrations, then the seed) run once
when several workers or hosts start together on PostgreSQL.

A transaction-level advisory lock: it is let go when the transaction ends, also when
the process dies, so a worker killed halfway through holds nobody up. The others wait
for it, then find the schema at head and the seed's rows there, and add nothing.
SQLite needs none: a write transaction takes the database's one write lock at BEGIN.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Any fixed number, the same in every worker.
SETUP_LOCK = 7_230_519
_TAKE = text("SELECT pg_advisory_xact_lock(:key)")


def take_setup_lock(connection: Connection) -> None:
    """Wait for the setup lock, held until the transaction of `connection` ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(_TAKE, {"key": SETUP_LOCK})
