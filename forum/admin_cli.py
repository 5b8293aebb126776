"""`python run.py create-secretariat EMAIL`: the first secretariat account of an install.

Migrates the database as a start would, then appoints the account with that email, or
makes it first (asking for its password and details) when there is none. A password is
read from the terminal twice, or from standard input when that is not a terminal, so
that a provisioning script can pipe it; it never appears on the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TextIO

from forum.actions.accounts import check_register, normalize_email
from forum.actions.secretariat import do_appoint_secretariat, do_create_secretariat
from forum.db.engine import create_engine, make_sessionmaker
from forum.db.migrate import upgrade
from forum.db.queries import get_user_by_email
from forum.db.seed import seed_structure
from forum.domain.vocabulary import Family
from forum.errors import ForumError
from forum.passwords import hasher_for
from forum.settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run.py create-secretariat",
        description="Appoint an account to the secretariat, making it first if needed.",
    )
    p.add_argument("email")
    p.add_argument("--name", help="display name of a new account (asked when missing)")
    p.add_argument("--organization", help="organization of a new account (asked)")
    p.add_argument("--country", help="two-letter ISO 3166 code of a new account (asked)")
    p.add_argument(
        "--family",
        default=Family.INTERNATIONAL_ORG.value,
        choices=[f.value for f in Family],
        help="stakeholder family of a new account (default: %(default)s)",
    )
    return p


def _ask(label: str, given: str | None, stdin: TextIO) -> str:
    if given:
        return given
    if stdin.isatty():
        return input(f"{label}: ")
    return stdin.readline().rstrip("\n")


def _password(stdin: TextIO) -> str:
    if not stdin.isatty():
        return stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("The passwords differ; nothing was changed.")
    return first


async def _run(settings: Settings, args: argparse.Namespace, stdin: TextIO) -> str:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            if settings.seed:
                await seed_structure(session)
            email = normalize_email(args.email)
            if await get_user_by_email(session, email) is not None:
                await session.commit()
                user = await do_appoint_secretariat(session, email)
                return f"{user.email} is now a member of the secretariat."
            await session.commit()
            registration = check_register(
                email=email,
                display_name=_ask("Display name", args.name, stdin),
                organization=_ask("Organization", args.organization, stdin),
                country=_ask("Country (two-letter code)", args.country, stdin),
                family=args.family,
                password=_password(stdin),
            )
            user = await do_create_secretariat(
                session, registration, passwords=hasher_for(settings)
            )
            return f"Made {user.email}, a member of the secretariat; sign in at /login."
    finally:
        await engine.dispose()


def create_secretariat(argv: list[str], stdin: TextIO = sys.stdin) -> int:
    args = parser().parse_args(argv)
    try:
        print(asyncio.run(_run(Settings.from_env(), args, stdin)))
    except ForumError as error:
        where = f" ({error.field})" if error.field else ""
        print(f"Refused{where}: {error.message}", file=sys.stderr)
        return 2
    return 0
