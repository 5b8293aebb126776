"""Open many signed-out WebSockets from one address against Agora (run.py, its defaults)
and count how many it lets in: the connection caps (docs/operations.md) at work.

    .venv/bin/python -m bench.ws_flood --sockets 3000

Prints how many got `hello`, how many were closed with 4503, how long it took, and the
server's resident memory at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from contextlib import AsyncExitStack

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.servers import Agora, rss_bytes

BATCH = 100


async def one(stack: AsyncExitStack, url: str) -> str:
    try:
        ws: ClientConnection = await stack.enter_async_context(
            connect(url, ping_interval=None, open_timeout=30)
        )
        first = json.loads(await asyncio.wait_for(ws.recv(), 30))
    except ConnectionClosed as closed:
        return str(closed.rcvd.code if closed.rcvd else "closed")
    except (OSError, TimeoutError) as error:
        return type(error).__name__
    return str(first["type"])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sockets", type=int, default=3000)
    args = parser.parse_args()
    server = Agora()
    await server.start(speakers=0)
    try:
        async with AsyncExitStack() as stack:
            start = time.perf_counter()
            outcomes: Counter[str] = Counter()
            for offset in range(0, args.sockets, BATCH):
                count = min(BATCH, args.sockets - offset)
                batch = [one(stack, server.ws_url) for _ in range(count)]
                outcomes.update(await asyncio.gather(*batch))
            took = time.perf_counter() - start
            rss = rss_bytes(server.pid) / 2**20
            print(f"{args.sockets} signed-out sockets from one address in {took:.1f} s:")
            for outcome, n in outcomes.most_common():
                print(f"  {outcome}: {n}")
            print(f"server RSS {rss:.0f} MiB")
    finally:
        await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
