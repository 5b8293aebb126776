"""A reader too slow for its stream is cut off to reconnect, and one too far behind to
replay is told to reload; neither is ever sent an event twice or out of order."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from forum.actions.posts import thread_channel
from forum.broker.memory import MemoryBroker
from forum.db.discussions_queries import REPLAY_MAX
from forum.db.models import Post, Thread
from forum.web.sse import QUEUE_MAX
from tests.discussions_support import open_thread
from tests.people import signed_in
from tests.support import LiveServer, client
from tests.test_discussions_live import Event, events

BURST = QUEUE_MAX + 50


async def test_a_reader_behind_a_burst_is_cut_off_and_sent_nothing_twice(
    server: LiveServer,
) -> None:
    async with signed_in(server) as author, client(server) as reader:
        thread_id = (await open_thread(author))["thread"]["id"]
        seq = (await reader.get(f"/api/threads/{thread_id}")).json()["seq"]
        async with events(reader, f"/api/threads/{thread_id}/events?after={seq}") as stream:
            # One burst within one turn of the event loop: the stream cannot drain its
            # queue in between, as when a reader's link stalls while a room is busy.
            broker = server.state["broker"]
            for n in range(1, BURST + 1):
                message = {"type": "post", "op": "new", "seq": seq + n, "thread": thread_id}
                await broker.publish(thread_channel(thread_id), message)
            got: list[Event] = []
            ended = False
            while not ended:
                try:
                    got.append(await stream.next(wait=10.0))
                except AssertionError:
                    ended = True
        # What was queued goes out in order, with no gap, then the stream ends: the reader
        # reconnects from the last id it has and replays the rest from the database.
        assert [event.id for event in got] == list(range(seq + 1, seq + 1 + QUEUE_MAX))


async def test_a_reader_too_far_behind_is_told_to_reload(server: LiveServer) -> None:
    async with signed_in(server) as author, client(server) as reader:
        created = await open_thread(author)
        thread_id = created["thread"]["id"]
        # A thread that grew by more than a replay holds while the reader was away.
        async with server.state["sessionmaker"]() as session, session.begin():
            first = await session.scalar(select(Post).where(Post.thread_id == thread_id))
            assert first is not None
            for n in range(2, REPLAY_MAX + 3):
                session.add(
                    Post(
                        thread_id=thread_id,
                        number=n,
                        path=f"{n:06d}",
                        author_id=first.author_id,
                        body=f"Reply {n}",
                        html=f"<p>Reply {n}</p>",
                        plain=f"Reply {n}",
                        seq=first.seq + n,
                    )
                )
            await session.execute(
                update(Thread)
                .where(Thread.id == thread_id)
                .values(last_number=REPLAY_MAX + 2, seq=first.seq + REPLAY_MAX + 2)
            )
        async with events(
            reader, f"/api/threads/{thread_id}/events", last_event_id=first.seq
        ) as stream:
            told = await stream.next()
            assert (told.event, told.id) == ("reset", None)
            try:
                await stream.next(wait=5.0)
            except AssertionError:
                pass  # the stream ended: the page reloads rather than replaying
            else:
                raise AssertionError("a reset stream went on")
        # Close enough to replay: the missed posts come, in order.
        recent = first.seq + REPLAY_MAX // 2
        async with events(reader, f"/api/threads/{thread_id}/events", last_event_id=recent) as s:
            replayed = await s.next()
            assert (replayed.event, replayed.id) == ("post", recent + 1)


async def test_live_messages_already_sent_or_replayed_are_not_sent_again(
    server: LiveServer,
) -> None:
    async with signed_in(server) as author, client(server) as reader:
        thread_id = (await open_thread(author))["thread"]["id"]
        seq = (await reader.get(f"/api/threads/{thread_id}")).json()["seq"]
        broker = server.state["broker"]
        url = f"/api/threads/{thread_id}/events"

        def message(n: int) -> dict[str, object]:
            return {"type": "post", "op": "new", "seq": n, "thread": thread_id}

        # Resumed at `seq` with nothing newer to replay: a message the reader already
        # has, late from another worker, is skipped; the next one comes.
        async with events(reader, url, last_event_id=seq) as stream:
            assert await anext(stream.lines) == "retry: 2000"  # subscribed by now
            await broker.publish(thread_channel(thread_id), message(seq))
            await broker.publish(thread_channel(thread_id), message(seq + 1))
            assert (await stream.next()).id == seq + 1
        # With no point to resume from, every message counts, from a board's first on.
        async with events(reader, url) as stream:
            assert await anext(stream.lines) == "retry: 2000"
            await broker.publish(thread_channel(thread_id), message(1))
            assert (await stream.next()).id == 1


async def test_a_board_reader_a_whole_replay_behind_is_told_to_reload(
    server: LiveServer,
) -> None:
    """A replay holds REPLAY_MAX changes: when it is full, more may have been left out,
    and the reader reloads rather than miss them."""
    async with signed_in(server) as author, client(server) as reader:
        opened = (await open_thread(author, code="C8"))["thread"]
        async with server.state["sessionmaker"]() as session, session.begin():
            first = await session.get_one(Thread, opened["id"])
            for n in range(1, REPLAY_MAX + 1):
                session.add(
                    Thread(
                        action_line_id=first.action_line_id,
                        title=f"Thread {n}",
                        author_id=first.author_id,
                        seq=first.seq + n,
                    )
                )
        url = "/api/action-lines/C8/events"
        async with events(reader, url, last_event_id=first.seq) as stream:
            told = await stream.next()
            assert (told.event, told.id) == ("reset", None)
            assert told.data == {"reason": "too far behind; reload"}
        # One change fewer than a full replay: all of it comes, and the stream goes on.
        async with events(reader, url, last_event_id=first.seq + 1) as stream:
            replayed = [await stream.next() for _ in range(REPLAY_MAX - 1)]
            assert [event.id for event in replayed] == list(
                range(first.seq + 2, first.seq + REPLAY_MAX + 1)
            )


def memory_broker(server: LiveServer) -> MemoryBroker:
    broker = server.state["broker"]
    assert isinstance(broker, MemoryBroker)
    return broker


async def listeners_left(server: LiveServer, channel: str) -> int:
    """How many listeners the server's broker holds on `channel`, once the streams that
    ended have had a moment to let go."""
    listeners = memory_broker(server)._listeners
    for _ in range(50):
        if channel not in listeners:
            return 0
        await asyncio.sleep(0.05)
    return len(listeners[channel])


async def test_a_stream_that_ends_leaves_no_listener_behind(server: LiveServer) -> None:
    """Readers come and go all day: each stream's listener goes with it, or a server
    would hold (and feed) one for every reader it ever had."""
    async with signed_in(server) as author, client(server) as reader:
        thread_id = (await open_thread(author))["thread"]["id"]
        channel = thread_channel(thread_id)
        for _ in range(2):
            async with events(reader, f"/api/threads/{thread_id}/events") as stream:
                assert await anext(stream.lines) == "retry: 2000"
                assert len(memory_broker(server)._listeners[channel]) == 1
            assert await listeners_left(server, channel) == 0
