"""Delivery under faults: dead and slow clients, the speaking clock, and events the
broker reorders or loses. A real uvicorn server and real `websockets` clients; the
faults on SQLite and on PostgreSQL (the speaking clock, which reads no differently on
either, on SQLite)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from forum.actions import speaking
from forum.actions.room_reads import room_for
from forum.broker import Message
from forum.db.engine import end_read, write_transaction
from forum.db.events import lock_group_room
from forum.db.models import User
from forum.domain.vocabulary import Seat
from forum.limits import MemoryRateLimiter
from forum.settings import Settings
from forum.ws import delivery
from forum.ws import hub as hub_module
from forum.ws.inbox import INBOX_FRAMES
from forum.ws.protocol import CLOSE_SLOW_CONSUMER
from tests.factory import GROUP
from tests.people import Person, api, person
from tests.rooms_support import Peer, peer, schedule_and_open
from tests.support import LiveServer, live_server, make_settings

PING_INTERVAL = 0.4
PING_TIMEOUT = 0.4
# Scheduling slack on a busy two-core machine; the bound itself is interval + timeout.
SLACK = 1.0
# The floor given in the test of the speaking clock.
FLOOR_S = 3


@asynccontextmanager
async def server_with(
    database_url: str, tmp_path: Path, limiter: MemoryRateLimiter, **changes: Any
) -> AsyncIterator[LiveServer]:
    send_buffer = changes.pop("send_buffer", None)
    settings: Settings = make_settings(database_url, tmp_path).with_(**changes)
    async with live_server(settings, limiter=limiter, send_buffer=send_buffer) as live:
        yield live


@asynccontextmanager
async def small_window_peer(server: LiveServer, who: Person) -> AsyncIterator[Peer]:
    """A client on a slow link: a tiny receive window, and no pings of its own (a
    stalled client answers none)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(server.ws_url.rsplit(":", 1)[1])))
    sock.setblocking(False)
    async with peer(server, who, ping_interval=None, sock=sock, close_timeout=1) as p:
        yield p


async def chair_says(server: LiveServer, chair: Person, bodies: list[str]) -> list[int]:
    """Interventions by the chair straight through the action, as fast as it commits."""
    seqs = []
    async with server.state["sessionmaker"]() as session:
        user = await session.get(User, chair.id)
        assert user is not None
        _group, room = await room_for(session, GROUP)
        await end_read(session)
        for body in bodies:
            event = await speaking.do_intervene(
                session,
                server.state["broker"],
                room.id,
                user=user,
                seat=Seat.PARTICIPANT,
                body=body,
            )
            seqs.append(event.seq)
            await asyncio.sleep(0)
    return seqs


async def presence_ids(server: LiveServer, watcher: Person) -> set[int]:
    state = await api(watcher, "GET", f"/api/rooms/{GROUP}")
    return {user["user_id"] for user in state.json()["presence"]["users"]}


async def until(check: Callable[[], Awaitable[bool]], wait: float) -> float:
    """Seconds until `check()` holds, polling; fails after `wait`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not await check():
        if loop.time() - start > wait:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
    return loop.time() - start


async def drain(p: Peer) -> None:
    """Read until the server closes the connection."""
    with pytest.raises(ConnectionClosed):
        while True:
            await p.next(wait=5)


# -- dead clients --------------------------------------------------------------------


async def test_a_dead_client_is_dropped_and_frees_its_observer_seat(
    database_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    async with server_with(
        database_url,
        tmp_path,
        limiter,
        ws_ping_interval=PING_INTERVAL,
        ws_ping_timeout=PING_TIMEOUT,
    ) as server:
        member = await person(server, role="member")
        observer = await person(server, family="civil_society")
        waiting = await person(server, family="civil_society")
        async with peer(server, member) as m, peer(server, waiting) as w:
            await m.join("remote")
            async with peer(server, observer, ping_interval=None, close_timeout=1) as dead:
                assert (await dead.join("observer"))["type"] == "joined"
                assert (await w.join("observer"))["code"] == "no_seat_available"
                # The observer's machine hangs: its socket is open, nothing is read.
                dead.ws.transport.pause_reading()
                loop = asyncio.get_running_loop()
                start = loop.time()
                while True:
                    update = await m.expect("presence", wait=PING_INTERVAL + PING_TIMEOUT + SLACK)
                    if [entry["user_id"] for entry in update["left"]] == [observer.id]:
                        break
                assert loop.time() - start < PING_INTERVAL + PING_TIMEOUT + SLACK
                assert observer.id not in await presence_ids(server, member)
                # The seat is free for the one who waited.
                assert (await w.join("observer"))["type"] == "joined"
                dead.ws.transport.resume_reading()
                await drain(dead)
                assert dead.ws.close_code == 1011  # keepalive ping timeout


@pytest.mark.parametrize(
    "ping_interval",
    [PING_INTERVAL, pytest.param(30.0, id="stalled-before-any-ping")],
)
async def test_a_dead_client_in_a_busy_room_is_dropped_too(
    database_url: str, tmp_path: Path, limiter: MemoryRateLimiter, ping_interval: float
) -> None:
    """With frames waiting for it the server cannot finish closing the socket, and the
    transport never reports it lost: the hub drops the connection whose sends are stuck
    for longer than the ping timeout, pings or not."""
    async with server_with(
        database_url,
        tmp_path,
        limiter,
        ws_ping_interval=ping_interval,
        ws_ping_timeout=PING_TIMEOUT,
        send_buffer=8192,
    ) as server:
        chair = await person(server, role="chair")
        observer = await person(server, family="civil_society")
        await schedule_and_open(chair)
        async with small_window_peer(server, observer) as dead:
            assert (await dead.join("observer"))["type"] == "joined"
            hub = server.state["hub"]
            (connection,) = hub.connections
            loop = asyncio.get_running_loop()
            dead.ws.transport.pause_reading()
            paused_at = loop.time()
            stop = asyncio.Event()
            # When the send that never finished began: the clock of the promise starts
            # there, not when the room got busy (filling the socket's buffers first takes
            # as long as a loaded machine makes it).
            stuck_since: list[float] = []
            # When the hub let it go, and the most any wake-up of this loop came late:
            # the watchdog's wake-ups are as late, on a busy machine, and no later.
            dropped_at: list[float] = []
            worst_lag = 0.0

            async def busy() -> None:
                n = 0
                while not stop.is_set():
                    await chair_says(server, chair, [f"{n}.{k} " + "x" * 3900 for k in range(5)])
                    n += 1

            async def watch() -> None:
                nonlocal worst_lag
                # Until the hub drops it, only the sender sets `sending_since`.
                while connection in hub.connections:
                    if connection.sending_since is not None:
                        stuck_since[:] = [connection.sending_since]
                    before = loop.time()
                    await asyncio.sleep(0.01)
                    worst_lag = max(worst_lag, loop.time() - before - 0.01)
                dropped_at.append(loop.time())

            talker = asyncio.create_task(busy())
            watcher = asyncio.create_task(watch())
            try:

                async def observer_gone() -> bool:
                    return observer.id not in await presence_ids(server, chair)

                await until(observer_gone, wait=30)
            finally:
                stop.set()
                await talker
                await watcher
            if ping_interval > PING_INTERVAL:
                # No ping comes in time: only the stuck send can have dropped it.
                assert stuck_since, "no send was ever stuck"
            # With pings, the unanswered ping may drop it before any send is stuck; either
            # way the promise holds from when it went silent or its send stuck.
            since = stuck_since[0] if stuck_since else paused_at
            # Timed where the hub drops it, not by the presence polled over HTTP behind
            # the busy room's writes; one late wake-up for the watchdog, one for here.
            bound = PING_INTERVAL + PING_TIMEOUT + SLACK + 2 * worst_lag
            assert dropped_at[0] - since < bound, (dropped_at[0] - since, worst_lag)
            assert not hub.connections
            # Its slot under the connection caps went with it, though its socket hangs.
            assert await server.state["connection_caps"].counter.count("all") == 0
            dead.ws.transport.resume_reading()
            with pytest.raises(ConnectionClosed):
                while True:
                    await dead.next(wait=5)


# -- slow actions --------------------------------------------------------------------


@asynccontextmanager
async def writer_held(server: LiveServer) -> AsyncIterator[None]:
    """Every action on the room waits until the block ends: for the database's write
    lock (SQLite), for the room's row lock (PostgreSQL, where writers run side by side
    and queue only on the rows they share)."""
    held, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with server.state["sessionmaker"]() as session, write_transaction(session):
            assert await lock_group_room(session, GROUP) is not None
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await held.wait()
    try:
        yield
    finally:
        release.set()
        await holder


async def nothing_answered(p: Peer, refs: list[str]) -> None:
    """No answer to `refs` reaches `p` meanwhile: its actions wait for the writer held."""
    with pytest.raises(TimeoutError):
        while True:
            frame = await p.next(wait=0.3)
            assert frame.get("ref") not in refs, f"answered while the writer was held: {frame}"


async def answers(p: Peer, refs: list[str], wait: float = 10.0) -> list[dict[str, Any]]:
    """The answers to `refs`, in the order they arrive."""
    got: list[dict[str, Any]] = []
    while len(got) < len(refs):
        frame = await p.next(wait)
        if frame.get("ref") in refs:
            got.append(frame)
    return got


async def test_a_slow_action_neither_drops_the_client_nor_loses_its_frames(
    database_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    """While an action waits, the server goes on reading the socket: the answers to its
    keepalive pings arrive, and the frames sent meanwhile are answered, in order."""
    async with server_with(
        database_url,
        tmp_path,
        limiter,
        ws_ping_interval=PING_INTERVAL,
        ws_ping_timeout=PING_TIMEOUT,
    ) as server:
        chair, member = await open_room(server)
        async with peer(server, chair) as c, peer(server, member) as m:
            await c.join("participant")
            start = (await m.join("remote"))["seq"]
            frames: list[dict[str, Any]] = [
                {"type": "speak", "body": "one"},
                {"type": "ping"},
                {"type": "raise_hand"},
                {"type": "speak", "body": "two"},
                {"type": "ping"},
                {"type": "lower_hand"},
            ]
            async with writer_held(server):
                refs = [await m.send(frame) for frame in frames]
                # Several keepalive rounds: a server that stops reading while the
                # first action waits closes the connection 1011 in one.
                await asyncio.sleep(3 * (PING_INTERVAL + PING_TIMEOUT))
                assert m.ws.close_code is None
                await nothing_answered(m, refs)
            got = await answers(m, refs)
            assert [a["ref"] for a in got] == refs
            assert [a["type"] for a in got] == ["ack", "pong", "ack", "ack", "pong", "ack"]
            seqs = [a["seq"] for a in got if a["type"] == "ack"]
            assert seqs == list(range(start + 1, start + 5))
            heard = [await c.expect("intervention", body=body) for body in ("one", "two")]
            assert [f["seq"] for f in heard] == [start + 1, start + 3]
            assert (await m.call({"type": "ping"}))["type"] == "pong"


async def test_frames_beyond_the_inbox_wait_and_are_all_answered_in_order(
    server: LiveServer,
) -> None:
    """A full inbox stops the reading (the client's sends wait), it loses nothing."""
    _chair, member = await open_room(server)
    async with peer(server, member) as m:
        start = (await m.join("remote"))["seq"]
        count = INBOX_FRAMES + 8
        frames = [
            {"type": "raise_hand"} if n % 2 == 0 else {"type": "lower_hand"} for n in range(count)
        ]
        async with writer_held(server):
            refs = [await m.send(frame) for frame in frames]
            await asyncio.sleep(0.3)
            await nothing_answered(m, refs)
        got = await answers(m, refs)
        assert [a["ref"] for a in got] == refs
        assert [a.get("seq") for a in got] == list(range(start + 1, start + 1 + count))


async def test_a_room_offered_in_chunks_gets_everything_once_in_order(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above DELIVERY_CHUNK connections, events go out through the room's pump, in
    batches, the loop free between its runs: each listener still gets each event once,
    in order, and one that comes or goes meanwhile gets exactly what it is owed."""
    monkeypatch.setattr(delivery, "DELIVERY_CHUNK", 2)
    chair, member = await open_room(server)
    async with (
        peer(server, member) as a,
        peer(server, member) as b,
        peer(server, member) as c,
        peer(server, member) as leaving,
    ):
        start = (await a.join("remote"))["seq"]
        for p in (b, c, leaving):
            await p.join("remote")
        said = await chair_says(server, chair, [f"first {n}" for n in range(20)])
        await leaving.call({"type": "leave"})
        async with peer(server, member) as late:
            joined = await late.join("remote", since=said[4])
            said += await chair_says(server, chair, [f"then {n}" for n in range(20)])
            for p in (a, b, c, late):
                await p.expect("intervention", body="then 19")
            await asyncio.sleep(0.2)
            for p in (a, b, c):
                assert [f["seq"] for f in p.events()] == list(range(start + 1, said[-1] + 1))
            assert joined["replay"] <= said[19] - said[4]
            assert [f["seq"] for f in late.events()] == list(range(said[4] + 1, said[-1] + 1))
            left = [f["seq"] for f in leaving.events()]
            assert left == list(range(start + 1, start + 1 + len(left)))


# -- slow readers --------------------------------------------------------------------


async def test_a_slow_reader_is_closed_4000_and_resumes_with_exactly_what_it_missed(
    database_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    async with server_with(
        database_url, tmp_path, limiter, ws_send_queue=8, send_buffer=8192
    ) as server:
        chair = await person(server, role="chair")
        member = await person(server, role="member")
        reader = await person(server, role="member")
        await schedule_and_open(chair)
        async with peer(server, reader) as fast, small_window_peer(server, member) as slow:
            await fast.join("participant")
            await slow.join("remote")
            hub = server.state["hub"]
            slow_connection = next(c for c in hub.connections if c.user_id == member.id)
            slow.ws.transport.pause_reading()
            reading = asyncio.create_task(fast.expect("intervention", wait=30, body="the end"))
            said: list[int] = []
            for n in range(400):
                said += await chair_says(server, chair, [f"{n} " + "x" * 3000])
                if slow_connection.closing:
                    break
            assert slow_connection.closing, "the queue never overflowed"
            said += await chair_says(server, chair, ["the end"])
            # Everyone else got everything, in order, while the slow one was stuck.
            await reading
            assert [f["seq"] for f in fast.events()] == said

            slow.ws.transport.resume_reading()
            await drain(slow)
            assert slow.ws.close_code == CLOSE_SLOW_CONSUMER
            received = [f["seq"] for f in slow.events()]
            assert received == said[: len(received)]
            last = received[-1] if received else said[0] - 1

        async with peer(server, member) as again:
            resumed = await again.join("remote", since=last)
            assert resumed["state"] is None
            assert resumed["replay"] == said[-1] - last
            for seq in said[said.index(last) + 1 if last in said else 0 :]:
                await again.expect("intervention", seq=seq)
            await asyncio.sleep(0.2)
            assert [f["seq"] for f in again.events()] == list(range(last + 1, said[-1] + 1))


# -- the speaking clock ----------------------------------------------------------------


async def test_the_floor_returns_to_the_chair_when_time_runs_out(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    observer = await person(server, family="civil_society")
    await schedule_and_open(chair)
    async with (
        peer(server, chair) as c,
        peer(server, member) as m,
        peer(server, observer) as o,
    ):
        await c.join("participant")
        await m.join("remote")
        await o.join("observer")
        await m.call({"type": "raise_hand"})
        # Three seconds: the speaker speaks at once, on a loaded machine too, and the
        # newcomer below joins before the floor is taken back.
        given = await c.call({"type": "give_floor", "limit_s": FLOOR_S})
        said = await m.call({"type": "speak", "body": "Briefly."})
        assert said["type"] == "ack" and said["seq"] == given["seq"] + 1
        floor = (await o.expect("floor", op="give"))["floor"]
        assert floor["user_id"] == member.id and floor["limit_s"] == FLOOR_S
        started = datetime.fromisoformat(floor["started_at"])
        assert (datetime.fromisoformat(floor["ends_at"]) - started).total_seconds() == FLOOR_S
        # The time left is in the state a newcomer receives.
        async with peer(server, chair) as late:
            state = (await late.join("participant"))["state"]
            assert state["floor"]["ends_at"] == floor["ends_at"]
            assert state["seq"] == said["seq"]

        for watcher in (c, m, o):
            taken = await watcher.expect("floor", op="take", wait=FLOOR_S + 2 * SLACK)
            assert taken["reason"] == "expired" and taken["actor"] is None
            assert taken["user_id"] == member.id and taken["floor"] is None
        elapsed = (datetime.fromisoformat(taken["at"]) - started).total_seconds()
        assert FLOOR_S <= elapsed < FLOOR_S + SLACK
        refused = await m.call({"type": "speak", "body": "One more thing"})
        assert refused["code"] == "floor_required"
        state = (await api(chair, "GET", f"/api/rooms/{GROUP}")).json()
        assert state["floor"] is None and state["seq"] == taken["seq"]


async def test_an_extension_before_time_runs_out_keeps_the_floor(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    await schedule_and_open(chair)
    async with peer(server, chair) as c, peer(server, member) as m:
        await c.join("participant")
        await m.join("remote")
        await m.call({"type": "raise_hand"})
        await c.call({"type": "give_floor", "limit_s": 1})
        given = (await m.expect("floor", op="give"))["floor"]
        assert (await c.call({"type": "extend_floor", "seconds": 1}))["type"] == "ack"
        extended = await m.expect("floor", op="extend")
        assert extended["seconds"] == 1 and extended["floor"]["extended_s"] == 1
        assert extended["floor"]["turn"] == given["turn"]
        ends_at = datetime.fromisoformat(extended["floor"]["ends_at"])
        assert (ends_at - datetime.fromisoformat(given["ends_at"])).total_seconds() == 1
        # Past the first limit the member still holds the floor and may speak.
        await asyncio.sleep(1.2)
        assert (await m.call({"type": "speak", "body": "Still mine."}))["type"] == "ack"
        assert not [f for f in m.seen if f.get("type") == "floor" and f["op"] == "take"]
        taken = await m.expect("floor", op="take", wait=2)
        assert taken["reason"] == "expired"
        assert datetime.fromisoformat(taken["at"]) >= ends_at


async def test_a_floor_taken_back_by_hand_does_not_expire_a_later_turn(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    await schedule_and_open(chair)
    async with peer(server, chair) as c, peer(server, member) as m:
        await c.join("participant")
        await m.join("remote")
        await m.call({"type": "raise_hand"})
        await c.call({"type": "give_floor", "limit_s": 1})
        await c.call({"type": "take_floor"})
        await m.call({"type": "raise_hand"})
        await c.call({"type": "give_floor"})  # no speaking time this turn
        await asyncio.sleep(1.3)
        assert (await m.call({"type": "speak", "body": "Untimed."}))["type"] == "ack"
        takes = [f for f in m.seen if f.get("type") == "floor" and f["op"] == "take"]
        assert [t["reason"] for t in takes] == ["chair"]


# -- the broker reorders and loses --------------------------------------------------


Publish = Callable[[str, Message], Awaitable[None]]


def intercept(
    server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    decide: Callable[[Message, Publish], Awaitable[None]],
) -> None:
    broker = server.state["broker"]
    real: Publish = broker.publish

    async def publish(channel: str, message: Message) -> None:
        if message.get("type") == "intervention":
            await decide(message, partial(real, channel))
        else:
            await real(channel, message)

    monkeypatch.setattr(broker, "publish", publish)


async def open_room(server: LiveServer) -> tuple[Person, Person]:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    await schedule_and_open(chair, fmt="open_debate")
    return chair, member


async def test_events_published_out_of_order_are_delivered_in_order(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chair, member = await open_room(server)
    held: list[Callable[[], Awaitable[None]]] = []

    async def swap(message: Message, send: Any) -> None:
        if message["body"] == "first":
            held.append(lambda: send(message))
            return
        await send(message)
        while held:
            await held.pop()()

    intercept(server, monkeypatch, swap)
    async with peer(server, chair) as c, peer(server, member) as m:
        start = (await m.join("remote"))["seq"]
        await c.join("participant")
        first = await c.call({"type": "speak", "body": "first"})
        second = await c.call({"type": "speak", "body": "second"})
        assert second["seq"] == first["seq"] + 1
        await m.expect("intervention", body="second")
        await asyncio.sleep(0.1)
        got = [(f["seq"], f["body"]) for f in m.events() if f["seq"] > start]
        assert got == [(first["seq"], "first"), (second["seq"], "second")]


async def test_a_lost_publish_is_filled_from_the_database(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chair, member = await open_room(server)

    async def lose_one(message: Message, send: Any) -> None:
        if message["body"] != "lost":
            await send(message)

    intercept(server, monkeypatch, lose_one)
    async with peer(server, chair) as c, peer(server, member) as m:
        await c.join("participant")
        start = (await m.join("remote"))["seq"]
        lost = await c.call({"type": "speak", "body": "lost"})
        after = await c.call({"type": "speak", "body": "after"})
        await m.expect("intervention", body="after", wait=hub_module.GAP_WAIT_S + 2)
        await asyncio.sleep(0.1)
        got = [(f["seq"], f["body"]) for f in m.events() if f["seq"] > start]
        assert got == [(lost["seq"], "lost"), (after["seq"], "after")]


async def test_a_failed_publish_still_acks_and_reaches_everyone(
    server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The last event of a burst lost: no later event reveals the gap, yet the
    listeners get it, once."""
    chair, member = await open_room(server)

    async def fail(message: Message, send: Any) -> None:
        raise ConnectionError("broker down")

    intercept(server, monkeypatch, fail)
    async with peer(server, chair) as c, peer(server, member) as m:
        await c.join("participant")
        start = (await m.join("remote"))["seq"]
        said = await c.call({"type": "speak", "body": "committed"})
        assert said["type"] == "ack" and said["seq"] == start + 1
        heard = await m.expect("intervention", wait=hub_module.GAP_WAIT_S + 2)
        assert heard["seq"] == said["seq"] and heard["body"] == "committed"
        await c.expect("intervention", body="committed")
        assert (await m.call({"type": "ping"}))["type"] == "pong"
        assert [f["seq"] for f in m.events()] == [said["seq"]]
    assert any("publishing to room" in r.getMessage() for r in caplog.records)


async def test_the_heartbeat_fills_what_other_workers_lost(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change made on another worker whose publish was lost reaches the room at
    the next heartbeat. (Here: over HTTP, with this worker deaf to its own commit
    notices, as it is to another worker's commits.)"""
    chair = await person(server, role="chair")
    broker = server.state["broker"]
    real = broker.publish

    async def lose_events(channel: str, message: Message) -> None:
        if "seq" not in message:
            await real(channel, message)

    async with peer(server, chair) as c:
        start = (await c.join("participant"))["seq"]
        monkeypatch.setattr(broker, "publish", lose_events)
        monkeypatch.setattr(broker, "committed", lambda channel, seq: None)
        response = await api(
            chair,
            "PUT",
            f"/api/rooms/{GROUP}/observer-seats",
            {"observer_seats": {"civil_society": 2}},
        )
        assert response.status_code == 200
        await asyncio.sleep(hub_module.GAP_WAIT_S + 0.1)
        assert not c.events()
        await server.state["hub"].catch_up()
        seats = await c.expect("room", op="seats")
        assert seats["seq"] == start + 1
        assert seats["observer_seats"] == {"civil_society": 2}
        await server.state["hub"].catch_up()
        await asyncio.sleep(0.1)
        assert [f["seq"] for f in c.events()] == [start + 1]


async def test_an_http_change_reaches_listeners_by_the_path_of_every_action(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A room change made over HTTP takes the actions' one publish-after-commit path:
    its event reaches the room's sockets from the publish, with no read of the
    database; and when that publish is lost, the commit notice has this worker read
    it within GAP_WAIT_S, as for a change made over WebSocket, not at a heartbeat."""
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    hub = server.state["hub"]
    broker = server.state["broker"]
    real = broker.publish
    async with peer(server, chair) as c, peer(server, member) as m:
        start = (await m.join("remote"))["seq"]
        await c.join("participant")
        seats = {"observer_seats": {"civil_society": 2}}
        response = await api(chair, "PUT", f"/api/rooms/{GROUP}/observer-seats", seats)
        assert response.status_code == 200
        heard = await m.expect("room", op="seats")
        assert heard["seq"] == start + 1 and hub.gap_fills == 0

        async def lose_events(channel: str, message: Message) -> None:
            if "seq" not in message:
                await real(channel, message)

        monkeypatch.setattr(broker, "publish", lose_events)
        seats = {"observer_seats": {"civil_society": 3}}
        response = await api(chair, "PUT", f"/api/rooms/{GROUP}/observer-seats", seats)
        assert response.status_code == 200
        # Well before the heartbeat (10 s), which this test never waits for.
        heard = await m.expect(
            "room",
            op="seats",
            wait=hub_module.GAP_WAIT_S + 1.5,
            observer_seats={"civil_society": 3},
        )
        assert heard["seq"] == start + 2 and hub.gap_fills == 1
        await c.expect("room", op="seats", observer_seats={"civil_society": 3})
        await asyncio.sleep(0.1)
        assert [f["seq"] for f in m.events()] == [start + 1, start + 2]
