"""A second reference for `ws_fanout`: the relay of `bare_server`, but on Agora's stack.

uvicorn with `Settings.uvicorn_ws_options()`, a Starlette WebSocket route, and the hub's
delivery pattern (a bounded queue and a sender task per connection, the frame encoded
once), without authentication, rooms, storage or `seq`. Between the bare `websockets`
server and Agora, it shows what the ASGI server and the per-connection queues cost, apart
from what Agora itself does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from forum.settings import Settings

QUEUE = 256


class Peer:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE)
        self.sender = asyncio.create_task(self._send())

    async def _send(self) -> None:
        while True:
            await self.websocket.send_text(await self.queue.get())


def create_app() -> Starlette:
    peers: set[Peer] = set()

    async def relay(websocket: WebSocket) -> None:
        await websocket.accept()
        peer = Peer(websocket)
        peers.add(peer)
        try:
            while True:
                text = await websocket.receive_text()
                for other in peers:
                    with contextlib.suppress(asyncio.QueueFull):
                        other.queue.put_nowait(text)
        except WebSocketDisconnect:
            pass
        finally:
            peers.discard(peer)
            peer.sender.cancel()

    return Starlette(routes=[WebSocketRoute("/", relay)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    options = Settings().uvicorn_ws_options()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning", **options)


if __name__ == "__main__":
    main()
