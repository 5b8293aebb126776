"""The reference for `ws_fanout`: a bare `websockets` server that relays every message
it receives to every connection with `websockets.broadcast()`.

No authentication, no storage, no sequence numbers: the ceiling a Python fan-out can
reach on this machine. Same frame limit, pings and compression setting as Agora's
uvicorn (`Settings.uvicorn_ws_options()`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve

MAX_SIZE = 16 * 1024
PING_S = 10.0


async def relay(host: str, port: int) -> None:
    connections: set[ServerConnection] = set()

    async def handler(websocket: ServerConnection) -> None:
        connections.add(websocket)
        try:
            async for message in websocket:
                broadcast(connections, message)
        finally:
            connections.discard(websocket)

    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    async with serve(
        handler,
        host,
        port,
        compression=None,
        max_size=MAX_SIZE,
        ping_interval=PING_S,
        ping_timeout=PING_S,
        backlog=2048,
    ):
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(relay(args.host, args.port))


if __name__ == "__main__":
    main()
