"""Backups as docs/operations.md tells them: `pg_dump` and `pg_restore` on PostgreSQL,
SQLite's online `.backup` while the server runs and writes. A forum filled through the
real server, restored into a fresh database, is found whole and carries on; its
sessions survive with the secret key, and not without it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.db.models import Post, Thread
from tests.factory import PASSWORD
from tests.ops_support import carries_on, fill_forum, seen
from tests.people import api
from tests.support import LiveServer, client, live_server, make_settings

PG_ARGS = ["--host", "127.0.0.1", "--username", "postgres"]


def plain(url: str) -> str:
    return url.replace("+asyncpg", "")


async def signed_in_cookie(server: LiveServer, email: str) -> str:
    async with client(server) as http:
        await http.login(email, PASSWORD)
        cookie = http.cookies.get("forum_session")
    assert cookie
    return cookie


async def me(server: LiveServer, cookie: str) -> int:
    async with client(server, cookies={"forum_session": cookie}) as http:
        return (await http.get("/api/me")).status_code


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=60)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_pg_dump_and_pg_restore_round_trip(
    database_url: str, empty_postgres: str, tmp_path: Path
) -> None:
    dump = tmp_path / "agora.dump"
    async with live_server(make_settings(database_url, tmp_path)) as server:
        filled = await fill_forum(server)
        before = await seen(server, filled)
        cookie = await signed_in_cookie(server, filled.people[1].user["email"])
        # While the forum runs: the dump is one snapshot.
        name = database_url.rsplit("/", 1)[1]
        await asyncio.to_thread(run, "pg_dump", *PG_ARGS, "--format=custom", f"--file={dump}", name)
    restored = empty_postgres.rsplit("/", 1)[1]
    await asyncio.to_thread(
        run, "pg_restore", *PG_ARGS, "--no-owner", "--exit-on-error", f"--dbname={restored}",
        str(dump),
    )  # fmt: skip
    async with live_server(make_settings(empty_postgres, tmp_path)) as server:
        assert await seen(server, filled) == before
        assert await me(server, cookie) == 200
        await carries_on(server, filled, before)


async def test_sqlite_online_backup_while_the_server_writes(
    sqlite_url: str, tmp_path: Path
) -> None:
    source = Path(sqlite_url.split("///", 1)[1])
    backup = tmp_path / "backup.db"
    settings = make_settings(sqlite_url, tmp_path)
    async with live_server(settings) as server:
        filled = await fill_forum(server)
        before = await seen(server, filled)
        cookie = await signed_in_cookie(server, filled.people[1].user["email"])
        writer = filled.people[2]
        opened = await api(
            writer, "POST", "/api/action-lines/C3/threads", {"title": "W", "body": "w"}
        )
        busy = opened.json()["thread"]["id"]
        posted: asyncio.Queue[int] = asyncio.Queue()
        done = asyncio.Event()

        async def write() -> None:
            for n in range(1, 201):
                if done.is_set():
                    return
                answer = await api(writer, "POST", f"/api/threads/{busy}/posts", {"body": "w"})
                assert answer.status_code == 201, answer.text
                posted.put_nowait(n)

        task = asyncio.create_task(write())
        for _ in range(3):
            await posted.get()
        copy = await asyncio.create_subprocess_exec(
            shutil.which("sqlite3") or "sqlite3", str(source), f".backup {backup}"
        )
        assert await copy.wait() == 0
        for _ in range(3):
            written = await posted.get()
        done.set()
        await task
        written += posted.qsize()

    integrity = await asyncio.to_thread(
        subprocess.run,
        ["sqlite3", str(backup), "PRAGMA integrity_check"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert integrity.stdout.strip() == "ok"
    async with live_server(make_settings(f"sqlite+aiosqlite:///{backup}", tmp_path)) as server:
        # One moment of the forum: the busy thread's counter matches its posts.
        async with server.state["sessionmaker"]() as session:
            thread = await session.get(Thread, busy)
            posts = await session.scalar(
                select(func.count()).select_from(Post).where(Post.thread_id == busy)
            )
        assert thread is not None and posts is not None
        assert 3 <= thread.reply_count == posts - 1 < written + 1
        assert await seen(server, filled) == before
        assert await me(server, cookie) == 200
        await carries_on(server, filled, before)
    # Without the secret key that signed it, no session survives.
    other_key = settings.with_(
        database_url=f"sqlite+aiosqlite:///{backup}", secret_key="another-key-" + "y" * 32
    )
    async with live_server(other_key) as server:
        assert await me(server, cookie) == 401
