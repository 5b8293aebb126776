"""Start Agora: `python run.py` serves on http://127.0.0.1:8000 with embedded SQLite.

`python run.py create-secretariat EMAIL` appoints the first secretariat account;
`python run.py move-database --to postgresql://…` copies the forum into an empty database.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import MutableMapping

import uvicorn


def settle_public_url(host: str, port: int, environ: MutableMapping[str, str]) -> bool:
    """Unless FORUM_PUBLIC_URL is given, set it to the address served; whether it was
    guessed so. In the environment, because every worker reads its settings there and
    all must write the same links."""
    from forum.settings import default_public_url

    if environ.get("FORUM_PUBLIC_URL"):
        return False
    environ["FORUM_PUBLIC_URL"] = default_public_url(host, port)
    return True


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["create-secretariat"]:
        from forum.admin_cli import create_secretariat

        raise SystemExit(create_secretariat(argv[1:]))
    if argv[:1] == ["move-database"]:
        from forum.move_cli import move

        raise SystemExit(move(argv[1:]))
    parser = argparse.ArgumentParser(
        description="Run the Agora forum.",
        epilog="Also: run.py create-secretariat EMAIL (appoint the first secretariat account); "
        "run.py move-database --to URL (copy the forum into an empty database).",
    )
    parser.add_argument("--host", default=os.environ.get("FORUM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("FORUM_PORT", "8000")))
    parser.add_argument("--db", help="database URL (default: SQLite in ./var/agora.db)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (more than one needs PostgreSQL and Redis)",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if args.db:
        os.environ["FORUM_DATABASE_URL"] = args.db

    from forum.settings import Settings

    guessed_url = settle_public_url(args.host, args.port, os.environ)
    settings = Settings.from_env()
    if args.workers < 1:
        parser.error("--workers must be 1 or more")
    if args.workers > 1:
        missing = [
            name
            for name, wrong in (
                ("FORUM_DATABASE_URL=postgresql://… (or --db)", settings.is_sqlite),
                ("FORUM_BROKER_URL=redis://…", settings.broker_url.startswith("memory")),
            )
            if wrong
        ]
        if missing:
            parser.error(
                f"--workers {args.workers} needs {' and '.join(missing)}: workers share no "
                "memory, so events, limits and connection counts must go through PostgreSQL "
                "and Redis"
            )
    os.environ.setdefault("FORUM_SECRET_KEY", settings.secret_key)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if guessed_url and args.host in ("0.0.0.0", "::"):  # noqa: S104 - compared, not bound
        logging.getLogger("forum").warning(
            "FORUM_PUBLIC_URL is not set: feeds link to %s", settings.public_url
        )
    uvicorn.run(
        "forum.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        proxy_headers=True,
        # Open live streams would hold a restart forever; clients resume from their seq.
        timeout_graceful_shutdown=5,
        **settings.uvicorn_ws_options(),
    )


if __name__ == "__main__":
    main()
