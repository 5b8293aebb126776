"""The in-process broker: one worker, no network."""

from __future__ import annotations

import logging

from forum.broker import CommitNotices, Listener, Message

log = logging.getLogger(__name__)


class MemoryBroker(CommitNotices):
    def __init__(self) -> None:
        super().__init__()
        self._listeners: dict[str, list[Listener]] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._listeners.clear()

    async def healthy(self) -> bool:
        return True

    async def publish(self, channel: str, message: Message) -> None:
        for listener in tuple(self._listeners.get(channel, ())):
            try:
                listener(channel, message)
            except Exception:
                # One broken listener must not keep the message from the others.
                log.exception("broker listener failed on %s", channel)

    async def subscribe(self, channel: str, listener: Listener) -> None:
        self._listeners.setdefault(channel, []).append(listener)

    async def unsubscribe(self, channel: str, listener: Listener) -> None:
        listeners = self._listeners.get(channel)
        if listeners and listener in listeners:
            listeners.remove(listener)
            if not listeners:
                del self._listeners[channel]
