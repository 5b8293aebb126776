"""What tests watch: the events the broker carries (`capture_events`, as Zulip's
`capture_send_event_calls`, the count asserted on the way out) and the statements the
database runs (`count_queries`). conftest.py gives both as fixtures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from forum.actions.contacts import contact_channel
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
    contacts: Iterable[int] = (),
) -> list[str]:
    return (
        [room_channel(r) for r in rooms]
        + [user_channel(u) for u in users]
        + [thread_channel(t) for t in threads]
        + [board_channel(n) for n in lines]
        + [contact_channel(c) for c in contacts]
    )


class EventCapture:
    """`async with capture_events(server, threads=(7,), expected=1) as events:` listens
    to the channels of those rooms, people, threads, boards (action lines' ids) and
    contact requests while
    the block runs, and asserts on the way out that exactly `expected` messages came
    (`expected=None` leaves the count to the test). `anywhere=True` records what is
    published on every channel instead, those no test could name beforehand (a thread
    the block opens) included."""

    @asynccontextmanager
    async def __call__(
        self,
        source: LiveServer | Broker,
        *,
        expected: int | None,
        anywhere: bool = False,
        rooms: Iterable[int] = (),
        users: Iterable[int] = (),
        threads: Iterable[int] = (),
        lines: Iterable[int] = (),
        contacts: Iterable[int] = (),
    ) -> AsyncIterator[Events]:
        broker = source.state["broker"] if isinstance(source, LiveServer) else source
        channels = channels_of(
            rooms=rooms, users=users, threads=threads, lines=lines, contacts=contacts
        )
        assert channels or anywhere, "no channel to listen to"
        assert not (channels and anywhere), "channels or anywhere, not both"
        events = Events()
        if anywhere:
            async with _every_channel(broker, events):
                yield events
        else:
            for channel in channels:
                await broker.subscribe(channel, events)
            try:
                yield events
            finally:
                for channel in channels:
                    await broker.unsubscribe(channel, events)
        if expected is not None:
            assert len(events) == expected, events.messages


@asynccontextmanager
async def _every_channel(broker: Broker, events: Events) -> AsyncIterator[None]:
    """`events` told of every message `broker` publishes, which it still delivers."""
    deliver = broker.publish
    own = vars(broker).get("publish")  # a test's own stand-in, put back afterwards

    async def publish(channel: str, message: Message) -> None:
        events(channel, message)
        await deliver(channel, message)

    broker.publish = publish  # type: ignore[method-assign]
    try:
        yield
    finally:
        if own is None:
            del broker.publish
        else:
            broker.publish = own  # type: ignore[method-assign]


def broker_down(monkeypatch: pytest.MonkeyPatch, broker: Broker) -> None:
    """Every publish on `broker` fails from now on, as when Redis is away."""

    async def down(channel: str, message: Message) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(broker, "publish", down)


# What the server's access-window timer asks every second (forum/ws/timers.py), on the
# engine a test counts the statements of: a read that takes longer on a busy machine
# would count it too.
WINDOW_TICK = "FROM access_windows"


def _serving_a_request() -> bool:
    """Whether the statement runs for an HTTP request uvicorn serves, not for one of the
    server's clocks (the heartbeat, the access-window timer, the catch-up): SQLAlchemy
    calls its listeners in the task that awaited the statement."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return False
    name = getattr(task.get_coro(), "__qualname__", "") if task is not None else ""
    return name.endswith("run_asgi")


@dataclass
class Queries:
    """The statements run, and the rows they returned."""

    statements: list[str] = field(default_factory=list)
    rows: int = 0

    def __len__(self) -> int:
        return len(self.statements)


def _task_name() -> str | None:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    return task.get_name() if task is not None else None


class QueryCounter:
    """`with count_queries(engine) as queries:` records each statement `engine` runs
    in the block, but those that contain one of `ignore` (another job's, on the same
    engine) or that run in a task named in `ignore_tasks` (a group commit's,
    `forum.db.group_commit`), and the rows they returned."""

    @contextmanager
    def __call__(
        self,
        engine: AsyncEngine | AsyncConnection | Engine,
        *,
        ignore: tuple[str, ...] = (),
        ignore_tasks: tuple[str, ...] = (),
        requests_only: bool = False,
    ) -> Iterator[Queries]:
        sync = engine if isinstance(engine, Engine) else engine.sync_engine
        queries = Queries()

        def count(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
            if any(word in statement for word in ignore):
                return
            if requests_only and not _serving_a_request():
                return
            if ignore_tasks and _task_name() in ignore_tasks:
                return
            queries.statements.append(statement)
            # The async drivers' cursors hold every row of the result once it has run.
            queries.rows += len(getattr(cursor, "_rows", None) or ())

        event.listen(sync, "after_cursor_execute", count)
        try:
            yield queries
        finally:
            event.remove(sync, "after_cursor_execute", count)
