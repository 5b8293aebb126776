"""What the room tests share: a WebSocket peer that reads frames until the one it waits
for, several peers at once, and a sitting scheduled (and opened) over the API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.factory import GROUP
from tests.people import Person, api
from tests.support import LiveServer

# A sitting as the sessions API takes it.
SITTING = {
    "title": "Financing mechanisms",
    "agenda": "1. Opening",
    "format": "statements",
    "starts_at": "2005-11-16T09:00:00+01:00",
    "ends_at": "2005-11-16T12:00:00+01:00",
}


@dataclass
class Peer:
    ws: ClientConnection
    seen: list[dict[str, Any]] = field(default_factory=list)
    _refs: int = 0

    async def send(self, frame: dict[str, Any]) -> str:
        self._refs += 1
        ref = f"r{self._refs}"
        await self.ws.send(json.dumps({**frame, "ref": ref}))
        return ref

    async def next(self, wait: float = 5.0) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
        self.seen.append(frame)
        return frame

    async def expect(self, type_: str, wait: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next frame of `type_` whose fields equal `match`; others are kept in `seen`."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no {type_} {match} frame; saw {self.seen[-5:]}")
            frame = await self.next(left)
            if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def call(self, frame: dict[str, Any], wait: float = 5.0) -> dict[str, Any]:
        """Send a frame; its answer (ack or error) with the same ref."""
        ref = await self.send(frame)
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no answer to {frame}")
            answer = await self.next(left)
            if answer.get("ref") == ref and answer["type"] in {"ack", "error", "joined", "pong"}:
                return answer

    async def join(self, seat: str, room: str = GROUP, since: int | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "join", "room": room, "seat": seat}
        if since is not None:
            frame["since"] = since
        return await self.call(frame)

    def events(self) -> list[dict[str, Any]]:
        return [
            frame
            for frame in self.seen
            if "seq" in frame and frame["type"] not in {"joined", "ack"}
        ]


@asynccontextmanager
async def peer(server: LiveServer, who: Person | None = None, **kwargs: Any) -> AsyncIterator[Peer]:
    headers = who.headers(server) if who else {"Origin": server.origin}
    async with connect(server.ws_url + "/ws", additional_headers=headers, **kwargs) as ws:
        p = Peer(ws)
        hello = await p.next()
        assert hello["type"] == "hello"
        yield p


@asynccontextmanager
async def peers(server: LiveServer, *people: Person | None) -> AsyncIterator[tuple[Peer, ...]]:
    """A peer for each of `people` (`None`: one signed out), in that order."""
    async with AsyncExitStack() as stack:
        yield tuple([await stack.enter_async_context(peer(server, who)) for who in people])


async def seated(*seats: tuple[Peer, str]) -> None:
    """Each peer joins the room in its seat."""
    for p, seat in seats:
        assert (await p.join(seat))["type"] == "joined"


async def seen_upto(p: Peer, seq: int) -> None:
    """Wait until `p` has received the event `seq` (it may have arrived already, while
    the peer waited for an answer)."""
    while not any(frame.get("seq") == seq for frame in p.events()):
        await p.next()


async def schedule_and_open(
    chair: Person, *, fmt: str = "statements", title: str = "Sitting"
) -> dict[str, Any]:
    response = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {
            "title": title,
            "agenda": "1. Opening\n2. *Statements*",
            "format": fmt,
            "starts_at": "2005-11-16T09:00:00+01:00",
            "ends_at": "2005-11-16T12:00:00+01:00",
        },
    )
    assert response.status_code == 201, response.text
    session = response.json()
    opened = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{session['id']}/open")
    assert opened.status_code == 200, opened.text
    return dict(opened.json())
