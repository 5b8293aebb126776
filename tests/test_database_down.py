"""PostgreSQL cut off under a live server: its connections terminated and new ones
refused. Writes answer 503 `unavailable` over HTTP and an `unavailable` error frame over
WebSocket, never an acknowledgement; `/healthz` says the database is down; once the
database takes connections again the server serves by itself (the pool's pre-ping
replaces the dead connections), and nothing refused was stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.db.models import Post, RoomEvent
from tests.databases import admin_url, pg_admin
from tests.people import person
from tests.rooms_support import peer, schedule_and_open
from tests.support import LiveServer, client, live_server, make_settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_name(postgres_template: str) -> Iterator[str]:
    name = f"agora_down_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(f"CREATE DATABASE {name} TEMPLATE {postgres_template}"))
    yield name
    asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def cut_off(name: str) -> None:
    await pg_admin(
        f"ALTER DATABASE {name} ALLOW_CONNECTIONS false",
        # The name is the fixture's own, made of hex digits.
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",  # noqa: S608
    )


async def counts(server: LiveServer) -> tuple[int, int]:
    async with server.state["sessionmaker"]() as session:
        posts = await session.scalar(select(func.count()).select_from(Post))
        events = await session.scalar(select(func.count()).select_from(RoomEvent))
    return int(posts or 0), int(events or 0)


async def test_an_unreachable_database_is_unavailable_then_recovered_by_itself(
    pg_name: str, tmp_path: Path
) -> None:
    settings = make_settings(admin_url(pg_name), tmp_path)
    async with live_server(settings) as server:
        chair = await person(server, role="chair")
        await schedule_and_open(chair)
        before = await counts(server)
        headers = {"Authorization": f"Bearer {chair.token}"}
        thread = {"title": "Kept only if stored", "body": "Refused while the database is down."}
        async with peer(server, chair) as room, client(server, headers=headers) as http:
            await room.join("participant")
            await cut_off(pg_name)
            try:
                posted = await http.post("/api/action-lines/C1/threads", json=thread)
                assert posted.status_code == 503, posted.text
                assert posted.json()["error"]["code"] == "unavailable"
                answer = await room.call({"type": "speak", "body": "Not stored."})
                assert (answer["type"], answer["code"]) == ("error", "unavailable")
                health = await http.get("/healthz")
                assert health.status_code == 503
                assert health.json()["database"] == "down"
                assert health.json()["broker"] == "ok"
            finally:
                await pg_admin(f"ALTER DATABASE {pg_name} ALLOW_CONNECTIONS true")
            assert (await http.get("/healthz")).json()["status"] == "ok"
            assert await counts(server) == before
            posted = await http.post("/api/action-lines/C1/threads", json=thread)
            assert posted.status_code == 201, posted.text
            assert (await room.call({"type": "speak", "body": "Stored."}))["type"] == "ack"
            assert await counts(server) == (before[0] + 1, before[1] + 1)
