"""Live updates for readers of a thread or a board, as server-sent events.

A reader needs nothing from the server but "something changed", so a one-way stream
over plain HTTP is enough: it passes every proxy, needs no account, and the browser's
`EventSource` reconnects by itself, sending the id of the last event it received.

Every event's id is the board's `seq` of the change it reports. The stream subscribes
to the broker first, then replays from the database every change after the reader's
last id (`Last-Event-ID`, or `?after=` on a first connection, from the page it
loaded), then forwards live messages, skipping those the replay already sent: nothing
is missed, nothing is doubled. A reader too slow to drain its queue, or too far
behind to replay, is told to `reset` (reload) or simply cut off to reconnect.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from forum.actions.posts import board_channel, thread_channel
from forum.audit import log_refusal
from forum.auth import Principal
from forum.broker import Message, user_channel
from forum.connection_caps import Admission
from forum.db.discussions_queries import (
    REPLAY_MAX,
    board_changes,
    get_board_line,
    get_thread,
    thread_changes,
)
from forum.errors import ForumError
from forum.web.http import app_state, client_ip, db, principal
from forum.web.openapi import ApiRouter
from forum.web.params import form_id
from forum.wire.streams import StreamEvent, ThreadEvent

router = ApiRouter(tag="live")

KEEPALIVE_S = 15.0
# Streams end after a while; EventSource reconnects with its last id. This bounds how
# long a restart waits for open streams and spreads readers over workers.
LIFETIME_S = 300.0
QUEUE_MAX = 256
RETRY_MS = 2000

# A replay's changes: (seq, the `event:` name, the event).
Replay = Callable[[int], Awaitable[list[tuple[int, str, StreamEvent]]]]


def frame(seq: int | None, event: str, data: Any) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    # json.dumps never emits a raw newline, so the data is always one `data:` line.
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or ""
    return form_id(raw, "after")


def _setting(request: Request, name: str, default: float) -> float:
    return float(app_state(request)["settings"].extra.get(name, default))


# Proxies must neither cache nor buffer a stream: each event goes out as it happens.
STREAM_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


class CappedStream(StreamingResponse):
    """A stream that holds its slots under the connection caps until it ends, however
    it ends (its lifetime, a reset, a slow reader, the reader gone, a shutdown)."""

    def __init__(self, content: AsyncIterator[str], admission: Admission) -> None:
        super().__init__(content, media_type="text/event-stream", headers=STREAM_HEADERS)
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.admission.release()


async def event_stream(
    request: Request,
    channel: str,
    after: int | None,
    replay: Replay,
    *,
    session: Principal | None = None,
) -> Response:
    """A stream of `channel`'s numbered messages; with `session`, a stream for that
    signed-in session alone, which ends when the session does (a sign-out, a password
    change, signing out everywhere)."""
    if request.method == "HEAD":
        # The stream's headers only: a HEAD would otherwise hold a stream open, unread.
        return Response(media_type="text/event-stream", headers=STREAM_HEADERS)
    state = app_state(request)
    broker = state["broker"]
    keepalive = _setting(request, "sse_keepalive_s", KEEPALIVE_S)
    lifetime = _setting(request, "sse_lifetime_s", LIFETIME_S)
    # Bounded by the listener (QUEUE_MAX events, then the end marker), not by the queue:
    # a full queue must neither drop what it holds nor take what comes after a gap.
    queue: asyncio.Queue[Message | None] = asyncio.Queue()
    overflowed = False

    def listener(_channel: str, message: Message) -> None:
        nonlocal overflowed
        if overflowed:
            return
        if queue.qsize() >= QUEUE_MAX:
            # Cut the reader off after what it has queued, in order and without a gap; it
            # reconnects and replays the rest from its last id.
            overflowed = True
            queue.put_nowait(None)
            return
        queue.put_nowait(message)

    def ended(_channel: str, message: Message) -> None:
        if (
            session is not None
            and message.get("type") == "session"
            and message.get("op") == "ended"
            and message.get("session_id") == session.session_id
        ):
            queue.put_nowait(None)

    own = user_channel(session.user.id) if session is not None else None

    async def stream() -> AsyncIterator[str]:
        await broker.subscribe(channel, listener)
        if own is not None:
            await broker.subscribe(own, ended)
        try:
            yield f"retry: {RETRY_MS}\n\n"
            last = after if after is not None else 0
            if after is not None:
                changes = await replay(after)
                if len(changes) >= REPLAY_MAX:
                    yield frame(None, "reset", {"reason": "too far behind; reload"})
                    return
                for seq, event, data in changes:
                    last = max(last, seq)
                    yield frame(seq, event, data)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + lifetime
            while (remaining := deadline - loop.time()) > 0:
                try:
                    message = await asyncio.wait_for(queue.get(), min(keepalive, remaining))
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if message is None:
                    return
                seq = int(message["seq"])
                if seq <= last or message.get("type") == "renamed":
                    # A rename moves the board's counter for the workers' kept pages
                    # (`forum.actions.board_refresh`); readers see ids skip it.
                    continue
                last = seq
                yield frame(seq, str(message["type"]), message)
        finally:
            await broker.unsubscribe(channel, listener)
            if own is not None:
                await broker.unsubscribe(own, ended)

    return CappedStream(stream(), await admit(request))


async def admit(request: Request) -> Admission:
    """The stream's slots, or `too_many_connections`: 429 when the caller's address or
    account has its fill, 503 when the server (or its signed-out budget) has."""
    caller = await principal(request)
    address = client_ip(request)
    user_id = caller.user.id if caller else None
    try:
        return await app_state(request)["connection_caps"].admit(address=address, user_id=user_id)
    except ForumError as error:
        log_refusal(
            str(error.code),
            ip=address,
            user_id=user_id,
            path=request.url.path,
            detail=str(error.extra.get("cap")),
        )
        raise


@router.route(
    "GET",
    "/threads/{thread_id:id}/events",
    summary="Server-sent events: new, edited, deleted posts of a thread, co-signed or withdrawn",
    errors=(404, 422, 429, 503),
    media_type="text/event-stream",
    query=[("after", "seq to replay from on a first connection (Last-Event-ID wins)")],
)
async def thread_events(request: Request) -> Response:
    thread_id = request.path_params["thread_id"]
    async with db(request) as session:
        await get_thread(session, thread_id)

    async def replay(after: int) -> list[tuple[int, str, StreamEvent]]:
        async with db(request) as session:
            view = await get_thread(session, thread_id)
            posts = await thread_changes(session, thread_id, after)
        changes: list[tuple[int, str, StreamEvent]] = [
            (
                post.post.seq,
                "post",
                {
                    "type": "post",
                    "op": "replay",
                    "seq": post.post.seq,
                    "thread": thread_id,
                    "post": post.wire(),
                },
            )
            for post in posts
        ]
        if view.thread.seq > after:
            thread: ThreadEvent = {
                "type": "thread",
                "op": "replay",
                "seq": view.thread.seq,
                "thread": view.wire(),
            }
            changes.append((view.thread.seq, "thread", thread))
        # The thread's own seq may equal its latest post's: send the post first.
        return sorted(changes, key=lambda change: (change[0], change[1] == "thread"))

    return await event_stream(request, thread_channel(thread_id), last_event_id(request), replay)


@router.route(
    "GET",
    "/action-lines/{code}/events",
    summary="Server-sent events: threads opened or active on a board",
    errors=(404, 422, 429, 503),
    media_type="text/event-stream",
    query=[("after", "seq to replay from on a first connection (Last-Event-ID wins)")],
)
async def board_events(request: Request) -> Response:
    async with db(request) as session:
        line = await get_board_line(session, request.path_params["code"])
    line_id = line.id

    async def replay(after: int) -> list[tuple[int, str, StreamEvent]]:
        async with db(request) as session:
            threads = await board_changes(session, line_id, after)
        return [
            (
                view.thread.seq,
                "thread",
                {"type": "thread", "op": "replay", "seq": view.thread.seq, "thread": view.wire()},
            )
            for view in threads
        ]

    return await event_stream(request, board_channel(line_id), last_event_id(request), replay)
