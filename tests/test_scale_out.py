"""Several forum processes on one PostgreSQL database and one Redis: events reach every
process's clients in the same order, once; limits and caps count across processes; a
restarted Redis, a worker killed with SIGKILL and an unreachable database are survived.

The processes are real (`run.py`), the engines are real: the shared PostgreSQL (a fresh
database from the template per test) and a `redis-server` of the test's own on a free
port, which a test may kill and start again without touching anyone else's.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from forum.db.engine import create_engine, make_sessionmaker
from forum.db.migrate import prepare
from forum.db.models import ActionLine, Group, Room
from forum.ws.protocol import CLOSE_TOO_MANY_CONNECTIONS
from tests.databases import IN_CI, admin_url, pg_admin
from tests.factory import PASSWORD
from tests.rooms_support import Peer
from tests.scale_support import (
    Node,
    RedisServer,
    bearer,
    events,
    interventions,
    open_session,
    peer,
    person,
)
from tests.test_discussions_live import events as live_events

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(postgres_template: str) -> Iterator[str]:
    name = f"agora_scale_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(f"CREATE DATABASE {name} TEMPLATE {postgres_template}"))
    yield admin_url(name)
    asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
async def redis() -> AsyncIterator[RedisServer]:
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    await server.start()
    try:
        yield server
    finally:
        server.kill()


def env(pg_url: str, redis: RedisServer, **settings: str) -> dict[str, str]:
    return {
        "FORUM_DATABASE_URL": pg_url,
        "FORUM_BROKER_URL": redis.url,
        "FORUM_SECRET_KEY": "k" * 40,
        **{f"FORUM_{name.upper()}": value for name, value in settings.items()},
    }


@pytest.fixture
async def nodes(
    pg_url: str, redis: RedisServer, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Node, Node]]:
    """Two processes started together, each one uvicorn worker unless the test's
    parameters say (`workers`: of the second)."""
    extra: dict[str, str] = dict(getattr(request, "param", {}))
    workers = int(extra.pop("workers", "1"))
    a = Node(tmp_path / "a", env(pg_url, redis, **extra))
    b = Node(tmp_path / "b", env(pg_url, redis, **extra), workers=workers)
    try:
        await asyncio.gather(a.ready(), b.ready())
        yield a, b
    finally:
        a.stop()
        b.stop()


async def until_count(p: Peer, n: int, wait: float = 10.0) -> None:
    """Read frames until `p` has received `n` interventions."""
    deadline = asyncio.get_running_loop().time() + wait
    while len(interventions(p)) < n:
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"{len(interventions(p))} of {n} interventions: {p.seen[-5:]}"
        await p.next(left)


async def speak(p: Peer, body: str) -> int:
    answer = await p.call({"type": "speak", "body": body})
    assert answer["type"] == "ack", answer
    return int(answer["seq"])


def in_order_once(p: Peer) -> list[int]:
    seqs = [seq for seq, _type in events(p)]
    assert seqs == sorted(set(seqs)), seqs
    return seqs


async def room(pg_url: str, nodes: tuple[Node, Node]) -> tuple[dict[str, Any], dict[str, Any]]:
    a, b = nodes
    chair = await person(pg_url, role="chair")
    member = await person(pg_url, role="member")
    await open_session(a, chair)
    return chair, member


# The second process runs two workers behind one port: `run.py --workers 2`.
@pytest.mark.parametrize("nodes", [{"workers": "2"}], indirect=True)
async def test_two_processes_share_room_and_board_events_in_order_and_resume_across(
    pg_url: str, nodes: tuple[Node, Node]
) -> None:
    a, b = nodes
    chair, member = await room(pg_url, nodes)
    async with peer(a, chair) as on_a, peer(b, member) as on_b:
        assert (await on_a.join("participant"))["type"] == "joined"
        assert (await on_b.join("participant"))["type"] == "joined"

        async def talk(p: Peer, who: str) -> None:
            for n in range(6):
                await speak(p, f"{who} {n}")

        await asyncio.gather(talk(on_a, "a"), talk(on_b, "b"))
        await until_count(on_a, 12)
        await until_count(on_b, 12)
        assert events(on_a) == events(on_b)
        seqs = in_order_once(on_b)
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert sorted(interventions(on_a)) == sorted(f"{w} {n}" for w in "ab" for n in range(6))
        last = seqs[-1]
    # The member was on process b; missed three, and comes back on process a.
    async with peer(a, chair) as on_a:
        await on_a.join("participant")
        for n in range(3):
            await speak(on_a, f"missed {n}")
    async with peer(a, member) as back:
        await back.join("participant", since=last)
        await until_count(back, 3)
        assert interventions(back) == ["missed 0", "missed 1", "missed 2"]
        assert [seq for seq, _ in events(back)] == list(
            range(last + 1, last + 1 + len(events(back)))
        )

    # A board's readers on one process see a thread opened on the other.
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as reader,
        live_events(reader, "/api/action-lines/C1/events") as stream,
    ):
        assert await anext(stream.lines) == "retry: 2000"  # subscribed by now
        async with httpx.AsyncClient(base_url=b.url, headers=bearer(member)) as writer:
            posted = await writer.post(
                "/api/action-lines/C1/threads", json={"title": "Across", "body": "From b."}
            )
        assert posted.status_code == 201, posted.text
        event = await stream.next()
        assert event.event == "thread"
        assert event.data["thread"]["id"] == posted.json()["thread"]["id"]


@pytest.mark.parametrize(
    "nodes", [{"max_connections_per_account": "2", "login_attempts": "5"}], indirect=True
)
async def test_limits_and_caps_count_across_processes(
    pg_url: str, nodes: tuple[Node, Node]
) -> None:
    a, b = nodes
    who = await person(pg_url)

    async def sign_in(node: Node, password: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=node.url, timeout=10) as http:
            return await http.post(
                "/api/auth/login", json={"email": who["email"], "password": password}
            )

    # Five wrong guesses split over the two processes, then the right password: refused.
    for node in (a, b, a, b, a):
        assert (await sign_in(node, "wrong guess " * 2)).status_code == 401
    refused = await sign_in(b, PASSWORD)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited"

    # Two connections for the account, one on each process; a third on either is closed.
    async with AsyncExitStack() as held:
        for node in (a, b):
            await held.enter_async_context(peer(node, who))
        headers = {**bearer(who), "Origin": a.url}
        async with connect(a.ws_url, additional_headers=headers) as third:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(third.recv(), 5)
            assert third.close_code == CLOSE_TOO_MANY_CONNECTIONS
            assert third.close_reason and "your account" in third.close_reason


async def test_a_restarted_redis_is_survived_and_a_lost_publish_filled(
    pg_url: str, redis: RedisServer, nodes: tuple[Node, Node]
) -> None:
    a, b = nodes
    chair, member = await room(pg_url, nodes)
    async with peer(a, chair) as on_a, peer(b, member) as on_b:
        await on_a.join("participant")
        await on_b.join("participant")
        await speak(on_a, "before")
        await until_count(on_b, 1)

        redis.kill()
        for node in nodes:
            deadline = asyncio.get_running_loop().time() + 10
            while (await node.health())[0] == 200:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
            status, body = await node.health()
            assert status == 503
            assert (body["database"], body["broker"]) == ("ok", "down")
            assert body["error"]["code"] == "unavailable"
        # Stored and acknowledged while its publish is lost; sign-in still limited.
        await speak(on_a, "while away")
        await redis.start()
        await asyncio.gather(a.until_healthy(), b.until_healthy())

        await speak(on_b, "after")
        # Well before a heartbeat (10 s) compares the room: live, through the new
        # subscription, with the lost one filled from the database in its place.
        await until_count(on_a, 3, wait=3)
        await until_count(on_b, 3, wait=3)
        assert interventions(on_a) == interventions(on_b) == ["before", "while away", "after"]
        assert events(on_a) == events(on_b)
        in_order_once(on_b)


async def test_a_worker_killed_loses_its_clients_to_another_without_gap_or_double(
    pg_url: str, nodes: tuple[Node, Node]
) -> None:
    a, b = nodes
    chair, member = await room(pg_url, nodes)
    async with peer(b, chair) as on_b:
        await on_b.join("participant")
        async with peer(a, member) as on_a:
            await on_a.join("participant")
            await speak(on_b, "one")
            await until_count(on_a, 1)
            last = events(on_a)[-1][0]
            a.kill()
            with pytest.raises(ConnectionClosed):
                while True:
                    await on_a.next(10)
        await speak(on_b, "two")
        await speak(on_b, "three")
        async with peer(b, member) as back:
            await back.join("participant", since=last)
            await speak(on_b, "four")
            await until_count(back, 3)
            assert interventions(back) == ["two", "three", "four"]
            in_order_once(back)
            assert events(back)[0][0] == last + 1


async def test_workers_starting_together_migrate_and_seed_once(postgres_template: str) -> None:
    name = f"agora_scale_{uuid.uuid4().hex[:12]}"
    await pg_admin(f"CREATE DATABASE {name}")
    engines = [create_engine(admin_url(name)) for _ in range(4)]
    try:
        added = await asyncio.gather(*(prepare(engine) for engine in engines))
        async with make_sessionmaker(engines[0])() as session:
            counts = [
                await session.scalar(select(func.count()).select_from(model))
                for model in (ActionLine, Group, Room)
            ]
        # One of them seeded everything; the others found it there.
        assert sorted(added)[:3] == [0, 0, 0]
        assert sorted(added)[3] == sum(c or 0 for c in counts) > 0
        async with engines[0].connect() as connection:
            versions = await connection.scalar(text("SELECT count(*) FROM alembic_version"))
        assert versions == 1
    finally:
        for engine in engines:
            await engine.dispose()
        await pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, ["FORUM_DATABASE_URL", "FORUM_BROKER_URL"]),
        ({"FORUM_BROKER_URL": "redis://127.0.0.1:6379/0"}, ["FORUM_DATABASE_URL"]),
        ({"FORUM_DATABASE_URL": "postgresql://postgres@127.0.0.1/x"}, ["FORUM_BROKER_URL"]),
    ],
)
def test_several_workers_without_postgres_and_redis_are_refused_at_start(
    environ: dict[str, str],
    missing: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import run

    for name in ("FORUM_DATABASE_URL", "FORUM_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    # Set here, so that what run.py writes into the environment is undone after.
    monkeypatch.setenv("FORUM_PUBLIC_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("FORUM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FORUM_SECRET_KEY", "k" * 40)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        run.main(["--workers", "2"])
    assert stopped.value.code == 2
    said = capsys.readouterr().err
    assert "--workers 2 needs" in said
    assert all(name in said for name in missing)
    assert ("FORUM_BROKER_URL" in said) == ("FORUM_BROKER_URL" in missing)


@pytest.mark.parametrize("nodes", [{"board_trust_s": "600"}], indirect=True)
async def test_a_signed_out_page_on_one_process_follows_writes_on_the_other(
    pg_url: str, nodes: tuple[Node, Node]
) -> None:
    # Trusted for ten minutes: only what Redis carries can make process a's cached
    # page of the thread change while the test runs.
    a, b = nodes
    writer = await person(pg_url)
    async with (
        httpx.AsyncClient(base_url=b.url, headers=bearer(writer), timeout=10) as on_b,
        httpx.AsyncClient(base_url=a.url, timeout=10) as reader,
    ):
        opened = await on_b.post(
            "/api/action-lines/C5/threads", json={"title": "Trust", "body": "On b."}
        )
        assert opened.status_code == 201, opened.text
        url = f"/api/threads/{opened.json()['thread']['id']}"
        for _ in range(3):  # a learns the thread's board and listens to it
            assert (await reader.get(url)).status_code == 200
        replied = await on_b.post(f"{url}/posts", json={"body": "Written on b."})
        assert replied.status_code == 201, replied.text
        deadline = asyncio.get_running_loop().time() + 5
        while "Written on b." not in (await reader.get(url)).text:
            assert asyncio.get_running_loop().time() < deadline, "a never heard of the reply"
            await asyncio.sleep(0.05)
