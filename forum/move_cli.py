"""`python run.py move-database --to postgresql://…`: the embedded SQLite forum moved
to PostgreSQL (or any database to an empty one), every row kept. Stop the forum first:
what it writes after the copy began would stay behind."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from forum.db.transfer import Moved, MoveFailedError, MoveRefusedError, move_database
from forum.settings import DEFAULT_DATA_DIR, normalize_database_url


def parser() -> argparse.ArgumentParser:
    default = Path(os.environ.get("FORUM_DATA_DIR", DEFAULT_DATA_DIR)) / "agora.db"
    p = argparse.ArgumentParser(
        prog="run.py move-database",
        description="Copy every row of a stopped forum into an empty database.",
    )
    p.add_argument(
        "--from",
        dest="source",
        default=f"sqlite:///{default}",
        help="the forum's database now (default: %(default)s)",
    )
    p.add_argument(
        "--to", dest="target", required=True, help="an empty database, e.g. postgresql://…"
    )
    return p


def report(moved: Moved) -> str:
    tables = ", ".join(f"{name} {n}" for name, n in moved.rows.items() if n)
    return f"Moved {moved.total} rows ({tables}); row counts match."


def move(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    source, target = normalize_database_url(args.source), normalize_database_url(args.target)
    try:
        moved = asyncio.run(move_database(source, target))
    except MoveRefusedError as error:
        print(f"Refused: {error}", file=sys.stderr)
        return 2
    except MoveFailedError as error:
        print(f"Failed: {error}", file=sys.stderr)
        return 1
    print(report(moved))
    return 0
