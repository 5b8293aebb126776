"""What an action publishes, and when: registered inside its transaction, sent after commit.

Like Zulip's `send_event_on_commit`: an action says what it will publish while it
writes (`outbox.event(event)`, `outbox.add(channel, message)`), and nothing leaves
before the transaction commits, so a rolled-back change is never heard of. After
commit every message is published in the order it was registered, each on its own:
a failed publish is logged and never raised, because the change is committed, its
event row is in the database, and whoever missed it reads it from there. An answer
of "done" must not become an error for a done change.

The `seq` of each numbered message is also told to this worker's commit listeners
(`Broker.committed`): the hub waits for that event and reads it from the database
when its publish is lost. Every transport's actions take this one path, so an
event committed over HTTP is as safe as one committed over WebSocket.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from forum.broker import Broker, Message, room_channel
from forum.db.engine import write_transaction
from forum.db.models import RoomEvent

log = logging.getLogger(__name__)


class Outbox:
    """The messages of one transaction, in the order they were registered."""

    def __init__(self) -> None:
        # A room event is kept as the row and encoded after commit: an action may
        # still complete its data once it knows the event's `seq` (the floor's turn).
        self.messages: list[tuple[str, Message | RoomEvent]] = []

    def add(self, channel: str, message: Message) -> None:
        self.messages.append((channel, message))

    def room(self, room_id: int, message: Message) -> None:
        self.add(room_channel(room_id), message)

    def event(self, event: RoomEvent) -> RoomEvent:
        self.messages.append((room_channel(event.room_id), event))
        return event


@asynccontextmanager
async def committing(session: AsyncSession, broker: Broker) -> AsyncIterator[Outbox]:
    """The one transaction of an action, and what it publishes once it has committed.

    A refusal (any exception) rolls back and publishes nothing.
    """
    outbox = Outbox()
    async with write_transaction(session):
        yield outbox
    await send(broker, outbox)


async def send(broker: Broker, outbox: Outbox) -> None:
    for channel, payload in outbox.messages:
        message = payload.wire() if isinstance(payload, RoomEvent) else payload
        await publish(broker, channel, message)


async def publish(broker: Broker, channel: str, message: Message) -> None:
    """Publish one committed message: logged, never raised, on failure."""
    try:
        await broker.publish(channel, message)
    except Exception:
        log.exception("publishing to %s failed", channel.replace(":", " ", 1))
    seq = message.get("seq")
    if isinstance(seq, int):
        broker.committed(channel, seq)
