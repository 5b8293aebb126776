"""A frame fuzzer against a real server: one signed-in member in a room with an open
session sends whatever Hypothesis makes of the protocol (any JSON, frames of known types
with fields of every kind, huge integers, deep nesting, long strings, invalid UTF-8,
binary frames). The server stays up, answers every text frame (an error frame or the
normal answer) or closes with a documented code, and a refusal changes nothing: the
room tables' rows and every room's `seq` are as they were, and nothing is published.

Derandomized and bounded, so that CI sees the same examples every run in a few seconds.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from forum.actions.room_reads import room_for
from forum.ws.protocol import FRAME_TYPES, REF_MAX
from tests.capture import EventCapture, Events
from tests.factory import GROUP
from tests.people import Person, person
from tests.room_checks import room_snapshot
from tests.rooms_support import Peer, peer, schedule_and_open
from tests.support import FakeClock, LiveServer

# The answers a text frame may get, and the closes the protocol documents for frames.
ANSWERS = {"ack", "error", "pong", "joined"}
CLOSES = {1003: "binary", 1007: "invalid UTF-8", 1009: "too large"}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from([0, -1, 2**31, 2**53, 2**53 + 1, 2**63, 2**64, 10**30])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["wgig", "participant", "remote", "observer", "fifo", "rotation", ""])
    # Unpaired surrogates, NUL, bidirectional controls: JSON escapes can carry them all.
    | st.sampled_from(["\ud800", "a\udfffb", "\x00", "\u202e", "\ufeff"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
refs = (
    st.booleans()
    | st.sampled_from([0, "", 1.0, -1, 2**53, 2**53 + 1, "r" * 64, "r" * 65])
    | st.integers(min_value=-5, max_value=2**54)
    | st.text(max_size=70)
    | json_values
)


ids = st.integers(min_value=-2, max_value=12) | st.sampled_from([2**53, 2**53 + 1, 2**63])
# Each field of the protocol, with values of its own kind (in range or not).
TYPED: dict[str, st.SearchStrategy[Any]] = {
    # Our room, a room the member may not enter, no room.
    "room": st.sampled_from(["wgig", "africa-caucus", "no-such-room", "", "x" * 81]),
    "seat": st.sampled_from(["participant", "remote", "observer", "spectator", "throne"]),
    "session_id": ids,
    "since": ids,
    "user_id": ids,
    "position": st.integers(min_value=-1, max_value=10_001),
    "limit_s": st.integers(min_value=-1, max_value=86_401),
    "seconds": st.integers(min_value=-1, max_value=86_401),
    "duration_s": st.integers(min_value=-1, max_value=86_401),
    "policy": st.sampled_from(["fifo", "rotation", "rotation_regions", "lottery"]),
    "note": st.sampled_from(["pro", "contra", "question", "maybe"]),
    "point_of_order": st.booleans(),
    "body": st.text(max_size=600),
}


# The fields of each type of frame: required, then optional.
SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "join": (("room", "seat"), ("since",)),
    "leave": ((), ()),
    "ping": ((), ()),
    "raise_hand": ((), ("note", "point_of_order")),
    "lower_hand": ((), ("user_id",)),
    "lower_all_hands": ((), ()),
    "open_session": (("session_id",), ()),
    "close_session": (("session_id",), ()),
    "move": (("user_id", "position"), ()),
    "give_floor": ((), ("user_id", "limit_s")),
    "take_floor": ((), ()),
    "extend_floor": (("seconds",), ()),
    "set_policy": (("policy",), ()),
    "speak": (("body",), ()),
    "voice_turn": (("user_id",), ("duration_s",)),
    "pause_floor": ((), ()),
    "resume_floor": ((), ()),
    "get_equity": ((), ()),
}
assert set(SHAPES) == FRAME_TYPES


@st.composite
def known_frames(draw: st.DrawFn) -> str:
    """A frame of a known type with its fields of their kind (in range or not), some
    left out, some of any other kind, now and then one the type does not have."""
    # Joins change the most (seats, presence, the room of the connection): more of them.
    kind = draw(st.sampled_from([*sorted(SHAPES), "join", "join"]))
    required, optional = SHAPES[kind]
    frame: dict[str, Any] = {"type": kind}
    for name in required + tuple(n for n in optional if draw(st.booleans())):
        if draw(st.integers(0, 9)):
            frame[name] = draw(TYPED[name] if draw(st.integers(0, 4)) else json_values)
    if draw(st.booleans()):
        frame["ref"] = draw(refs)
    if draw(st.integers(0, 9)) == 0:
        frame[draw(st.sampled_from([*TYPED, "extra"]))] = draw(json_values)
    return json.dumps(frame)


def nested(depth: int) -> str:
    return '{"type": "ping", "ref": ' + "[" * depth + "]" * depth + "}"


text_frames = st.one_of(
    known_frames(),
    json_values.map(json.dumps),
    st.text(max_size=60),
    st.integers(10, 3000).map(nested),
    st.integers(10, 8000).map(lambda n: "[" * n + "]" * n),
    st.integers(0, 2**70).map(lambda n: f'{{"type": "move", "user_id": {n}{n}, "position": 0}}'),
    st.integers(15_000, 16_300).map(lambda n: json.dumps({"type": "speak", "body": "a" * n})),
)
# What is not a JSON text frame: a close is the documented answer, then a new connection.
raw_frames = st.one_of(
    st.binary(max_size=20).map(lambda b: b"\xff" + b).map(lambda b: ("utf8", b)),
    st.binary(max_size=20).map(lambda b: ("binary", b)),
    st.just(("big", b"")),
)
# One frame in ten is not text: each costs a close and a new connection.
frames = st.integers(0, 9).flatmap(
    lambda n: raw_frames if n == 0 else text_frames.map(lambda t: ("text", t))
)


@dataclass
class Room:
    server: LiveServer
    member: Person
    clock: FakeClock
    room_id: int
    stack: AsyncExitStack
    peer: Peer | None = None
    recorder: Events | None = None

    async def connected(self) -> Peer:
        """The member's connection, seated in the room (again after a close)."""
        if self.peer is None or self.peer.ws.close_code is not None:
            self.peer = await self.stack.enter_async_context(peer(self.server, self.member))
        if not self.seated:
            joined = await self.peer.join("remote")
            assert joined["type"] == "joined", joined
            self.seated = True
        return self.peer

    seated: bool = False


@pytest.fixture
async def room(
    sqlite_server: LiveServer, clock: FakeClock, capture_events: EventCapture
) -> AsyncIterator[Room]:
    chair = await person(sqlite_server, role="chair")
    member = await person(sqlite_server, role="member")
    await schedule_and_open(chair, fmt="open_debate")
    async with sqlite_server.state["sessionmaker"]() as session:
        _group, found = await room_for(session, GROUP)
    async with AsyncExitStack() as stack:
        fuzz = Room(sqlite_server, member, clock, found.id, stack)
        fuzz.recorder = await stack.enter_async_context(
            capture_events(sqlite_server, rooms=(found.id,), expected=None)
        )
        yield fuzz


async def answer_to(p: Peer) -> dict[str, Any]:
    """The answer to the frame just sent: frames are answered one at a time, in order;
    room events and presence updates may come before it."""
    while True:
        frame = await p.next(wait=10)
        if frame["type"] in ANSWERS:
            return frame
        assert frame["type"] in {"left", "presence", "queue", "intervention", "floor"}, frame


@settings(
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=st.lists(frames, min_size=1, max_size=3))
async def test_fuzzed_frames_are_answered_and_refusals_change_nothing(
    room: Room, sent: list[tuple[str, Any]]
) -> None:
    # A fresh window per example: the rate limits are tested elsewhere.
    room.clock.advance(max(room.server.state["settings"].ws_frame_window, 60.0) + 1)
    assert room.recorder is not None
    for kind, payload in sent:
        p = await room.connected()
        before = await room_snapshot(room.server)
        published_before = len(room.recorder.messages)
        if kind != "text":
            if kind == "utf8":
                await p.ws.send(payload, text=True)
            elif kind == "binary":
                await p.ws.send(payload)
            else:
                await p.ws.send("x" * (room.server.state["settings"].ws_max_size + 1))
            with pytest.raises(ConnectionClosed):
                while True:
                    await p.next(wait=10)
            assert p.ws.close_code in CLOSES, p.ws.close_code
            room.seated = False
            continue
        await p.ws.send(payload)
        try:
            answer = await answer_to(p)
        except ConnectionClosed:
            # Only a frame over the size limit may close a text frame's connection.
            assert p.ws.close_code == 1009 and len(payload.encode()) > 16_384, payload[:200]
            room.seated = False
            continue
        sent_ref = _ref(payload)
        if sent_ref is _NO_REF:
            assert "ref" not in answer, (payload[:200], answer)
        else:
            assert answer.get("ref") == sent_ref, (payload[:200], answer)
        if answer["type"] == "error":
            assert isinstance(answer["code"], str) and answer["message"], answer
            assert answer["code"] != "rate_limited", answer
            assert await room_snapshot(room.server) == before, (payload[:200], answer)
            assert len(room.recorder.messages) == published_before, (payload[:200], answer)
        elif answer["type"] == "ack" and _type(payload) == "leave":
            room.seated = False
    # The server is up and the connection answers.
    p = await room.connected()
    assert (await p.call({"type": "ping"}))["type"] == "pong"


_NO_REF = object()


def _type(payload: str) -> Any:
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    return data.get("type") if isinstance(data, dict) else None


def _ref(payload: str) -> Any:
    """The ref the answer must echo: a string of at most REF_MAX or an integer in
    0..2**53; anything else is not echoed (nothing to match)."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return _NO_REF
    if not isinstance(data, dict) or "ref" not in data:
        return _NO_REF
    ref = data["ref"]
    if isinstance(ref, str) and len(ref) <= REF_MAX:
        return ref
    if isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref <= 2**53:
        return ref
    return _NO_REF
