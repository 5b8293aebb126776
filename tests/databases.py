"""The test databases: PostgreSQL's server (FORUM_TEST_POSTGRES_URL), its templates,
and a migrated, seeded database made from nothing."""

from __future__ import annotations

import os

from sqlalchemy import text

from forum.db.engine import create_engine, make_sessionmaker
from forum.db.migrate import upgrade
from forum.db.seed import seed_structure

POSTGRES_URL = os.environ.get(
    "FORUM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
# One template per test process (each pytest-xdist worker is one): runs side by side
# must not drop each other's.
TEMPLATE_DB = f"agora_test_template_{os.getpid()}"


async def prepare(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    async with make_sessionmaker(engine)() as session:
        await seed_structure(session)
    await engine.dispose()


def admin_url(database: str) -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + database


async def pg_admin(*statements: str) -> None:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
