"""Apply Alembic migrations from inside the running application."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from forum.db.engine import make_sessionmaker
from forum.db.seed import seed_structure
from forum.db.setup_lock import take_setup_lock

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    take_setup_lock(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def prepare(engine: AsyncEngine, *, seed: bool = True) -> int:
    """Migrate, then (`seed`) load the WSIS structure; how many rows the seed added.
    Each step holds the setup lock, so workers starting together do each once."""
    await upgrade(engine)
    if not seed:
        return 0
    async with make_sessionmaker(engine)() as session:
        return await seed_structure(session)
