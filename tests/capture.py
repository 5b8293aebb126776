"""What tests watch: the events the broker carries (`capture_events`, as Zulip's
`capture_send_event_calls`, the count asserted on the way out) and the statements the
database runs (`count_queries`). conftest.py gives both as fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from forum.actions.posts import board_channel, thread_channel
from forum.broker import Broker, Message, room_channel, user_channel
from tests.support import LiveServer


@dataclass
class Events:
    """What was published on the channels listened to, in order."""

    messages: list[tuple[str, Message]] = field(default_factory=list)

    def __call__(self, channel: str, message: Message) -> None:
        self.messages.append((channel, message))

    def __len__(self) -> int:
        return len(self.messages)

    @property
    def events(self) -> list[dict[str, Any]]:
        """The messages alone, as plain dicts."""
        return [dict(message) for _, message in self.messages]

    def take(self) -> list[dict[str, Any]]:
        """The messages so far, forgotten here."""
        taken = self.events
        self.messages.clear()
        return taken


def channels_of(
    *,
    rooms: Iterable[int] = (),
    users: Iterable[int] = (),
    threads: Iterable[int] = (),
    lines: Iterable[int] = (),
) -> list[str]:
    return (
        [room_channel(r) for r in rooms]
        + [user_channel(u) for u in users]
        + [thread_channel(t) for t in threads]
        + [board_channel(n) for n in lines]
    )


class EventCapture:
    """`async with capture_events(server, threads=(7,), expected=1) as events:` listens
    to the channels of those rooms, people, threads and boards (action lines' ids) while
    the block runs, and asserts on the way out that exactly `expected` messages came
    (`expected=None` leaves the count to the test)."""

    @asynccontextmanager
    async def __call__(
        self,
        source: LiveServer | Broker,
        *,
        expected: int | None,
        rooms: Iterable[int] = (),
        users: Iterable[int] = (),
        threads: Iterable[int] = (),
        lines: Iterable[int] = (),
    ) -> AsyncIterator[Events]:
        broker = source.state["broker"] if isinstance(source, LiveServer) else source
        channels = channels_of(rooms=rooms, users=users, threads=threads, lines=lines)
        assert channels, "no channel to listen to"
        events = Events()
        for channel in channels:
            await broker.subscribe(channel, events)
        try:
            yield events
        finally:
            for channel in channels:
                await broker.unsubscribe(channel, events)
        if expected is not None:
            assert len(events) == expected, events.messages


def broker_down(monkeypatch: pytest.MonkeyPatch, broker: Broker) -> None:
    """Every publish on `broker` fails from now on, as when Redis is away."""

    async def down(channel: str, message: Message) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(broker, "publish", down)


@dataclass
class Queries:
    """The statements run, and the rows they returned."""

    statements: list[str] = field(default_factory=list)
    rows: int = 0

    def __len__(self) -> int:
        return len(self.statements)


class QueryCounter:
    """`with count_queries(engine) as queries:` records each statement `engine` runs
    in the block, but those that contain one of `ignore` (another job's, on the same
    engine), and the rows they returned."""

    @contextmanager
    def __call__(
        self, engine: AsyncEngine | AsyncConnection | Engine, *, ignore: tuple[str, ...] = ()
    ) -> Iterator[Queries]:
        sync = engine if isinstance(engine, Engine) else engine.sync_engine
        queries = Queries()

        def count(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
            if any(word in statement for word in ignore):
                return
            queries.statements.append(statement)
            # The async drivers' cursors hold every row of the result once it has run.
            queries.rows += len(getattr(cursor, "_rows", None) or ())

        event.listen(sync, "after_cursor_execute", count)
        try:
            yield queries
        finally:
            event.remove(sync, "after_cursor_execute", count)
