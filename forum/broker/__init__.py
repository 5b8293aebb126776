"""Fan-out of committed events to every worker: in-process, or over Redis across processes.

A message is a JSON-able dict. Listeners are plain callables run on the event loop;
they must not block and must not mutate the message (all listeners share it).

Besides the fan-out, a broker tells this worker's commit listeners the `seq` of every
numbered event committed here (`committed`), whatever becomes of its publish: a
publish may be lost, and the last event of a burst lost leaves no later event to
reveal the gap. Every action publishes through `forum.actions.outbox`, which says
both, so a change made over HTTP is as safe as one made over WebSocket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

Message = Mapping[str, Any]
Listener = Callable[[str, Message], None]
# Told (channel, seq) when a numbered event of the channel has committed on this worker.
CommitListener = Callable[[str, int], None]


class Broker(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, message: Message) -> None: ...

    async def subscribe(self, channel: str, listener: Listener) -> None: ...

    async def unsubscribe(self, channel: str, listener: Listener) -> None: ...

    async def healthy(self) -> bool:
        """Whether messages published now reach the other workers (for /healthz)."""

    def committed(self, channel: str, seq: int) -> None:
        """Tell this worker's commit listeners that `seq` of `channel` is committed."""

    def on_commit(self, listener: CommitListener) -> None: ...

    def off_commit(self, listener: CommitListener) -> None: ...


class CommitNotices:
    """The local half of a broker: commit notices, which never leave the process."""

    def __init__(self) -> None:
        self._commit_listeners: list[CommitListener] = []

    def committed(self, channel: str, seq: int) -> None:
        for listener in tuple(self._commit_listeners):
            try:
                listener(channel, seq)
            except Exception:
                log.exception("commit listener failed on %s", channel)

    def on_commit(self, listener: CommitListener) -> None:
        self._commit_listeners.append(listener)

    def off_commit(self, listener: CommitListener) -> None:
        if listener in self._commit_listeners:
            self._commit_listeners.remove(listener)


def room_channel(room_id: int) -> str:
    """A room's numbered events and its presence updates."""
    return f"room:{room_id}"


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
