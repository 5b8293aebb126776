"""The fan-out bench's C speakers (`bench/lean_listener.c --speak`) against a real
`websockets` server: each connection's own bearer token, the join, the warm-ups, the
interventions at their schedule as masked text frames of the bench's shape (the server's
parser refuses unmasked ones), the acks and refusals matched by `ref`, and closes.

The C program is compiled with gcc here, as the bench does: no gcc, a failure.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench import listeners
from bench.listeners import JOIN_REF
from bench.servers import BODY, INDEX, NEXT, Server
from bench.speakers import TOPIC, LeanSpeakers, Spoken, body

SPEAKERS = 3
MESSAGES = 12
RATE = 40.0
BODY_CHARS = 180
REFUSED = {4: "rate_limited", 7: "conflict"}
UNANSWERED = 9  # the server answers nothing to this one
JOIN = {"type": "join", "room": "bench-room", "seat": "participant"}
SAMPLE = {"type": "intervention", "op": "post", "seq": 1, "body": "hello", "room": 1}


def dump(frame: dict[str, Any]) -> str:
    """As Agora sends its frames (orjson): compact."""
    return json.dumps(frame, separators=(",", ":"))


class Room(Server):
    """Where the speakers connect: a `websockets` server that acks like Agora."""

    name = "room"
    acks = True

    def __init__(self, port: int, *, join: bool = True) -> None:
        self.ws_url = f"ws://127.0.0.1:{port}/ws?room=1"
        self.join = join

    def speaker_headers(self, index: int) -> dict[str, str]:
        return {"Authorization": f"Bearer token-{index}"}

    def speaker_join(self) -> dict[str, Any] | None:
        return JOIN if self.join else None

    def speak_template(self, *, warm: bool = False) -> str:
        ref = f'"warm-{INDEX}"' if warm else INDEX
        return f'{{"type": "speak", "body": "{BODY}", "ref": {ref}, "seq": {NEXT}}}'


class Hall:
    """What the server saw, by speaker (its token's number)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.frames: dict[int, list[str]] = {}
        self.joins: dict[int, Any] = {}
        self.refuse_join: set[int] = set()
        self.close_after: dict[int, int] = {}  # speaker: close 4001 after this many frames
        self.speakers: list[ServerConnection] = []

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.paths.append(ws.request.path)
        who = int(ws.request.headers["Authorization"].removeprefix("Bearer token-"))
        self.speakers.append(ws)
        mine = self.frames.setdefault(who, [])
        async for raw in ws:
            assert isinstance(raw, str)
            frame = json.loads(raw)
            if frame.get("type") == "join":
                self.joins[who] = frame
                kind = "error" if who in self.refuse_join else "joined"
                await ws.send(dump({"type": kind, "ref": frame["ref"]}))
                continue
            mine.append(raw)
            ref = frame["ref"]
            # Every speaker hears every event, as in Agora's rooms, and other frames
            # carrying a ref that is not an answer.
            broadcast(self.speakers, dump(SAMPLE))
            broadcast(self.speakers, dump({"type": "presence", "ref": 0, "seq": 5}))
            if isinstance(ref, int) and ref in REFUSED:
                error = {"type": "error", "code": REFUSED[ref], "message": "non", "ref": ref}
                await ws.send(dump(error))
            elif ref != UNANSWERED:
                await ws.send(dump({"type": "ack", "ref": ref, "seq": 40 + len(mine)}))
            if len(mine) == self.close_after.get(who):
                await ws.close(4001, "bye now")
                return


@asynccontextmanager
async def hall() -> AsyncIterator[tuple[Hall, int]]:
    seen = Hall()
    async with serve(seen.handler, "127.0.0.1", 0, compression=None) as server:
        yield seen, server.sockets[0].getsockname()[1]


async def speak(
    room: Room, *, deadline_s: float
) -> tuple[LeanSpeakers, Spoken, float, float, float]:
    binary = await asyncio.to_thread(listeners.build)
    lean = LeanSpeakers(room, SPEAKERS, BODY_CHARS, binary)
    try:
        await lean.open()
        await lean.warm_up()
        start = time.monotonic() + 0.1
        await lean.speak(MESSAGES, RATE, start, start + deadline_s)
        spoken = await lean.finish()
        done = time.monotonic()
    finally:
        await lean.close()
    return lean, spoken, start, start + deadline_s, done


async def test_interventions_go_at_their_time_and_their_answers_are_matched() -> None:
    async with hall() as (seen, port):
        lean, spoken, start, deadline, done = await speak(Room(port), deadline_s=1.5)

    assert lean.ready["connected"] == SPEAKERS and lean.ready["failed"] == 0
    assert seen.paths == ["/ws?room=1"] * SPEAKERS
    assert seen.joins == dict.fromkeys(range(SPEAKERS), {**JOIN, "ref": JOIN_REF})
    assert sorted(seen.frames) == list(range(SPEAKERS))

    assert len(spoken.sent) == MESSAGES
    for who, frames in seen.frames.items():
        warm = json.loads(frames[0])
        assert warm["ref"] == f"warm-{who}" and warm["seq"] == who + 1
        assert warm["body"].startswith(f"warm {who} ") and len(warm["body"]) == BODY_CHARS
        # Then its share of the bench interventions, in order: i mod SPEAKERS == who.
        indexes = list(range(who, MESSAGES, SPEAKERS))
        assert len(frames) == 1 + len(indexes)
        for index, raw in zip(indexes, frames[1:], strict=True):
            text = body("bench", index, spoken.sent[index], BODY_CHARS)
            assert raw == json.dumps(
                {"type": "speak", "body": text, "ref": index, "seq": index + 1}
            )
    assert TOPIC[:20] in json.loads(seen.frames[0][1])["body"]
    for index, sent in enumerate(spoken.sent):
        assert start + index / RATE <= sent < start + index / RATE + 0.25, (index, sent - start)

    assert sorted(spoken.acks) == sorted(set(range(MESSAGES)) - set(REFUSED) - {UNANSWERED})
    assert all(spoken.sent[i] < at < done for i, at in spoken.acks.items())
    assert spoken.refused == REFUSED
    assert [e["code"] for e in spoken.errors] == list(REFUSED.values())
    assert spoken.errors[0] == {"type": "error", "code": "rate_limited", "message": "non", "ref": 4}
    assert spoken.sample == SAMPLE
    assert spoken.closed == []
    # From the first send: two frames to every speaker for each intervention, one answer.
    assert spoken.received == MESSAGES * 2 * SPEAKERS + MESSAGES - 1
    # One intervention unanswered: it waited for it until the deadline.
    assert deadline <= done < deadline + 1.0
    assert 0 < spoken.cpu_s < 1.0 and 0 <= spoken.sys_s <= spoken.cpu_s


async def test_without_acks_it_reports_once_sent_and_records_closes() -> None:
    room = Room(0, join=False)
    room.acks = False  # a relay's speakers wait for nothing
    async with hall() as (seen, port):
        room.ws_url = f"ws://127.0.0.1:{port}/"
        seen.close_after = {1: 2}  # speaker 1: its warm-up and one intervention
        _lean, spoken, _start, deadline, done = await speak(room, deadline_s=30.0)

    assert seen.joins == {}
    assert done < deadline - 25  # it did not wait for the deadline
    assert spoken.closed == ["4001 bye now"]
    # Speaker 1's second intervention (index 4) and later were not sent.
    assert len(seen.frames[1]) == 2
    assert len(spoken.sent) == MESSAGES
    assert {1, 4, 7, 10} - set(spoken.acks) == {4, 7, 10}


async def test_a_refused_join_fails_the_speakers() -> None:
    async with hall() as (seen, port):
        seen.refuse_join = {2}
        lean = LeanSpeakers(Room(port), SPEAKERS, BODY_CHARS, listeners.build())
        try:
            with pytest.raises(RuntimeError, match=r"1 of 3 speakers could not connect or join"):
                await lean.open()
            assert lean.ready["errors"][0].startswith('connection 2: join refused: {"type":"error"')
        finally:
            await lean.close()
