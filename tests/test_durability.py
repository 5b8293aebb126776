"""What was acknowledged survives a crash: kill -9 the server right after an answer over
HTTP and over WebSocket, and the rows are there (RELIABILITY row 14), on SQLite and on
PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from websockets.asyncio.client import connect

from forum.db.engine import create_engine
from tests.factory import PASSWORD
from tests.support import CHEAP_HASHING_ENV, free_port, registration, until_served

ROOT = Path(__file__).resolve().parents[1]


class Process:
    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            **CHEAP_HASHING_ENV,
            "FORUM_DATA_DIR": str(data_dir),
            "FORUM_DATABASE_URL": database_url,
            "FORUM_SECRET_KEY": "k" * 40,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "run.py"),
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=data_dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        await until_served(self.url)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


async def token_for(http: httpx.AsyncClient, **fields: Any) -> tuple[int, str]:
    body = registration(**fields)
    created = await http.post("/api/accounts", json=body)
    assert created.status_code == 201, created.text
    response = await http.post(
        "/api/auth/token", json={"email": body["email"], "password": PASSWORD}
    )
    return int(created.json()["id"]), str(response.json()["token"])


async def sql(database_url: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """A statement straight on the database, outside the killed server; its rows."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def join_wgig(database_url: str, user_id: int, role: str) -> None:
    """Make the person a member of the WGIG with this role, straight in the database."""
    await sql(
        database_url,
        "INSERT INTO memberships (group_id, user_id, role, created_at) "
        "SELECT id, :user, :role, CURRENT_TIMESTAMP FROM groups WHERE slug = 'wgig'",
        user=user_id,
        role=role,
    )


async def test_acknowledged_writes_survive_kill_9(tmp_path: Path, database_url: str) -> None:
    data_dir = tmp_path
    server = Process(data_dir, database_url)
    try:
        await server.ready()
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            chair_id, token = await token_for(http, family="government")
            await join_wgig(database_url, chair_id, "chair")
            auth = {"Authorization": f"Bearer {token}"}
            session = await http.post(
                "/api/rooms/wgig/sessions",
                headers=auth,
                json={
                    "title": "Sitting",
                    "agenda": "",
                    "format": "open_debate",
                    "starts_at": "2005-11-16T09:00:00+01:00",
                    "ends_at": "2005-11-16T12:00:00+01:00",
                },
            )
            assert session.status_code == 201, session.text
            opened = await http.post(
                f"/api/rooms/wgig/sessions/{session.json()['id']}/open", headers=auth
            )
            assert opened.status_code == 200, opened.text
            posted = await http.post(
                "/api/action-lines/C1/threads",
                headers=auth,
                json={"title": "Kept", "body": "Acknowledged, so kept."},
            )
            assert posted.status_code == 201
            post_id = posted.json()["post"]["id"]

        async with connect(
            f"ws://127.0.0.1:{server.port}/ws", additional_headers={**auth, "Origin": server.url}
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            await ws.send(
                json.dumps({"type": "join", "room": "wgig", "seat": "participant", "ref": "j"})
            )
            while json.loads(await ws.recv()).get("ref") != "j":
                pass
            await ws.send(json.dumps({"type": "speak", "body": "On the record.", "ref": "s"}))
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("ref") == "s":
                    break
            assert frame["type"] == "ack", frame
            seq = frame["seq"]
            server.kill()  # at once: no shutdown, no flush beyond what commit did
    finally:
        if server.process.poll() is None:
            server.kill()

    posts = await sql(database_url, "SELECT body FROM posts WHERE id = :id", id=post_id)
    assert posts == [("Acknowledged, so kept.",)]
    events = await sql(
        database_url,
        "SELECT e.type, e.data FROM room_events e JOIN rooms r ON r.id = e.room_id "
        "JOIN groups g ON g.id = r.group_id WHERE g.slug = 'wgig' AND e.seq = :seq",
        seq=seq,
    )
    assert len(events) == 1 and events[0][0] == "intervention"
    assert "On the record." in str(events[0][1])

    again = Process(data_dir, database_url)
    try:
        await again.ready()
        async with httpx.AsyncClient(base_url=again.url) as http:
            post = await http.get(f"/api/posts/{post_id}")
            assert post.status_code == 200 and "Acknowledged" in post.text
    finally:
        again.kill()
