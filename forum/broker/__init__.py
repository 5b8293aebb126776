"""Fan-out of committed events to every worker: in-process, or over Redis across processes.

A message is a JSON-able dict. Listeners are plain callables run on the event loop;
they must not block and must not mutate the message (all listeners share it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

Message = Mapping[str, Any]
Listener = Callable[[str, Message], None]


class Broker(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, message: Message) -> None: ...

    async def subscribe(self, channel: str, listener: Listener) -> None: ...

    async def unsubscribe(self, channel: str, listener: Listener) -> None: ...

    async def healthy(self) -> bool:
        """Whether messages published now reach the other workers (for /healthz)."""


def user_channel(user_id: int) -> str:
    """Messages about one person: their sessions ending, their roles changing."""
    return f"user:{user_id}"


def create_broker(url: str) -> Broker:
    if url.startswith("memory"):
        from forum.broker.memory import MemoryBroker

        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from forum.broker.redis import RedisBroker

        return RedisBroker(url)
    raise ValueError(f"unsupported broker URL: {url.split(':', 1)[0]}://")
