"""`run.py create-secretariat`: the first secretariat account of a fresh install, made
from the shell, signs in and can do what only the secretariat may."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.factory import PASSWORD
from tests.support import CHEAP_HASHING_ENV, client, live_server, make_settings

ROOT = Path(__file__).resolve().parent.parent


def run_command(
    url: str, tmp_path: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **CHEAP_HASHING_ENV,
        "FORUM_DATABASE_URL": url,
        "FORUM_DATA_DIR": str(tmp_path / "var"),
        "FORUM_SECRET_KEY": "test-secret-key-" + "x" * 32,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "create-secretariat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_a_new_account_is_made_and_appointed(database_url: str, tmp_path: Path) -> None:
    done = run_command(
        database_url,
        tmp_path,
        "Secretariat@Example.org",
        "--name",
        "Executive Secretariat",
        "--organization",
        "WSIS Executive Secretariat",
        "--country",
        "CH",
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    async with live_server(make_settings(database_url, tmp_path)) as server, client(server) as http:
        me = await http.login("secretariat@example.org")
        assert me["display_name"] == "Executive Secretariat"
        assert (await http.get("/api/me")).json()["is_secretariat"] is True
        # What only the secretariat may do: appoint a group's chair.
        other = client(server)
        async with other:
            person = await other.register()
        answer = await http.put(
            f"/api/groups/africa-caucus/members/{person['id']}", json={"role": "chair"}
        )
        assert answer.status_code == 200, answer.text


async def test_an_existing_account_is_appointed_without_a_password(
    database_url: str, tmp_path: Path
) -> None:
    async with live_server(make_settings(database_url, tmp_path)) as server, client(server) as http:
        person = await http.register()
        await http.login(person["email"])
        assert (await http.get("/api/me")).json()["is_secretariat"] is False
        done = run_command(database_url, tmp_path, person["email"])
        assert done.returncode == 0, done.stderr
        assert "now a member of the secretariat" in done.stdout
        # The command is another process: a worker takes its word within the window it
        # trusts what it read of a session (FORUM_SESSION_TRUST_S), not at once.
        deadline = time.monotonic() + server.state["settings"].session_trust_s + 2
        while not (await http.get("/api/me")).json()["is_secretariat"]:
            assert time.monotonic() < deadline, "the appointment never reached the server"
            await asyncio.sleep(0.1)


async def test_a_bad_detail_is_refused_and_makes_nothing(database_url: str, tmp_path: Path) -> None:
    done = run_command(
        database_url,
        tmp_path,
        "new@example.org",
        "--name",
        "New",
        "--organization",
        "Org",
        "--country",
        "XX",
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 2
    assert "country" in done.stderr
    async with live_server(make_settings(database_url, tmp_path)) as server, client(server) as http:
        answer = await http.post(
            "/api/auth/login", json={"email": "new@example.org", "password": PASSWORD}
        )
        assert answer.status_code == 401
