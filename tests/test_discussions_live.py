"""Readers see new posts live, through server-sent events, and miss nothing when they
reconnect with the last event id. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from forum.settings import Settings
from tests.discussions_support import open_thread, reply
from tests.people import signed_in
from tests.support import LiveServer, client, live_server, make_settings

KEEPALIVE_S = 0.2


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path).with_(extra={"sse_keepalive_s": KEEPALIVE_S})


@dataclass
class Event:
    id: int | None
    event: str
    data: dict[str, Any]


@dataclass
class Stream:
    response: httpx.Response
    lines: AsyncIterator[str]
    comments: list[str] = field(default_factory=list)

    async def next(self, wait: float = 5.0) -> Event:
        """The next event, skipping keepalive comments (kept in `comments`)."""
        fields: dict[str, str] = {}
        async with asyncio.timeout(wait):
            async for line in self.lines:
                if line == "":
                    if "event" in fields:
                        raw_id = fields.get("id")
                        return Event(
                            int(raw_id) if raw_id else None,
                            fields["event"],
                            json.loads(fields["data"]),
                        )
                    fields.clear()
                    continue
                if line.startswith(":"):
                    self.comments.append(line)
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended")

    async def live(self, wait: float = 5.0) -> None:
        """Read up to the stream's `retry:` line, which it sends once it is subscribed:
        a change committed from here on reaches the stream, replayed or live."""
        async with asyncio.timeout(wait):
            async for line in self.lines:
                if line.startswith("retry:"):
                    return
        raise AssertionError("the stream ended")


@asynccontextmanager
async def events(
    http: httpx.AsyncClient, url: str, *, last_event_id: int | None = None
) -> AsyncIterator[Stream]:
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    async with http.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response, response.aiter_lines())


async def test_an_open_thread_receives_new_replies_live(server: LiveServer) -> None:
    async with signed_in(server) as author, client(server) as reader:
        created = await open_thread(author)
        thread_id = created["thread"]["id"]
        page = await reader.get(f"/threads/{thread_id}")
        script_tag = re.search(
            r'<script type="module" src="(/static/thread\.[0-9a-f]{12}\.js)">', page.text
        )
        assert script_tag, "the page loads thread.js under its hashed name"
        assert f'data-thread-events="/api/threads/{thread_id}/events"' in page.text
        seq = (await reader.get(f"/api/threads/{thread_id}")).json()["seq"]
        assert f'data-after="{seq}"' in page.text
        script = await reader.get(script_tag.group(1))
        assert script.status_code == 200 and "EventSource" in script.text
        assert "javascript" in script.headers["content-type"]

        async with events(reader, f"/api/threads/{thread_id}/events?after={seq}") as stream:
            await stream.live()
            posted = await reply(author, thread_id, "Live *from* Tunis", created["post"]["id"])
            got = await stream.next()
            assert got.event == "post" and got.id == posted["seq"] == seq + 1
            # The stream reads its replay after the `retry:` line: a reply committed
            # before that read comes in it (op `replay`), once, and clients take every
            # post event as an upsert (docs/protocol.md). The next event is the edit's.
            assert got.data["op"] in ("new", "replay")
            assert got.data["post"]["id"] == posted["id"]
            assert got.data["post"]["html"] == posted["html"]

            edited = await author.patch(f"/api/posts/{posted['id']}", json={"body": "Edited"})
            got = await stream.next()
            assert (got.event, got.data["op"]) == ("post", "edit")
            assert got.data["post"]["body"] == "Edited" == edited.json()["body"]

            await author.delete(f"/api/posts/{posted['id']}")
            got = await stream.next()
            assert got.data["op"] == "delete" and got.data["post"]["html"] is None
            assert got.data["post"]["body"] is None

            # Nothing to say for a while: a comment keeps proxies from closing the stream.
            await asyncio.sleep(KEEPALIVE_S * 2.5)
            other = await open_thread(author, title="Elsewhere")
            await reply(author, other["thread"]["id"], "not this thread")
            reply_here = await reply(author, thread_id, "back here")
            got = await stream.next()
            assert got.data["post"]["id"] == reply_here["id"]
            assert got.data["op"] == "new"  # long live by now: not from a replay
            assert ": keepalive" in stream.comments


async def test_a_reader_who_reconnects_misses_nothing(server: LiveServer) -> None:
    async with signed_in(server) as author, client(server) as reader:
        created = await open_thread(author)
        thread_id = created["thread"]["id"]
        url = f"/api/threads/{thread_id}/events"
        async with events(reader, url) as stream:
            first = await reply(author, thread_id, "one")
            seen = await stream.next()
            assert seen.data["post"]["id"] == first["id"]
        # Offline: two replies and an edit of the first happen.
        second = await reply(author, thread_id, "two")
        third = await reply(author, thread_id, "three", second["id"])
        await author.patch(f"/api/posts/{first['id']}", json={"body": "one, edited"})
        assert seen.id is not None
        async with events(reader, url, last_event_id=seen.id) as stream:
            replayed = [await stream.next() for _ in range(4)]
            kinds = [(e.event, e.data.get("post", {}).get("id")) for e in replayed]
            assert kinds == [
                ("post", second["id"]),
                ("post", third["id"]),
                ("post", first["id"]),
                ("thread", None),
            ]
            assert replayed[2].data["post"]["body"] == "one, edited"
            ids = [e.id for e in replayed]
            assert None not in ids and ids == sorted(i for i in ids if i is not None)
            # Then live, with nothing doubled.
            fourth = await reply(author, thread_id, "four")
            live = await stream.next()
            assert live.data["post"]["id"] == fourth["id"]
            assert live.id is not None and replayed[-1].id is not None
            assert live.id > replayed[-1].id


async def test_a_board_shows_new_threads_and_activity(server: LiveServer) -> None:
    async with signed_in(server) as author, client(server) as reader:
        board = (await reader.get("/api/action-lines/C8/threads")).json()
        page = await reader.get("/action-lines/C8")
        assert 'data-board-events="/api/action-lines/C8/events"' in page.text
        url = f"/api/action-lines/C8/events?after={board['seq']}"
        async with events(reader, url) as stream:
            created = await open_thread(author, code="C8", title="Local content")
            got = await stream.next()
            assert (got.event, got.data["op"]) == ("thread", "new")
            assert got.data["thread"]["title"] == "Local content"
            await reply(author, created["thread"]["id"], "more")
            got = await stream.next()
            assert got.data["op"] == "update" and got.data["thread"]["reply_count"] == 1
        assert (await reader.get("/api/action-lines/C99/events")).status_code == 404
        assert (await reader.get("/api/threads/999999/events")).status_code == 404


async def test_a_first_connection_replays_what_came_after_the_page(server: LiveServer) -> None:
    """The page tells its script the seq it was drawn at (`?after=`): what was posted
    between the page and the stream comes first, and a reconnection's Last-Event-ID,
    newer, wins over it."""
    async with signed_in(server) as author, client(server) as reader:
        thread_id = (await open_thread(author))["thread"]["id"]
        url = f"/api/threads/{thread_id}/events"
        seq = (await reader.get(f"/api/threads/{thread_id}")).json()["seq"]
        first = await reply(author, thread_id, "while the page loaded")
        second = await reply(author, thread_id, "and another")
        async with events(reader, f"{url}?after={seq}") as stream:
            got = [await stream.next(), await stream.next()]
        assert [(event.id, event.data["op"]) for event in got] == [
            (first["seq"], "replay"),
            (second["seq"], "replay"),
        ]
        assert got[0].data["post"]["id"] == first["id"]
        async with events(reader, f"{url}?after={seq}", last_event_id=first["seq"]) as stream:
            resumed = await stream.next()
        assert (resumed.id, resumed.data["post"]["id"]) == (second["seq"], second["id"])


async def test_an_after_no_row_can_have_is_refused_and_named(server: LiveServer) -> None:
    async with signed_in(server) as author, client(server) as reader:
        thread_id = (await open_thread(author))["thread"]["id"]
        url = f"/api/threads/{thread_id}/events"
        for headers, query in (
            ({}, "?after=99999999999999999999"),
            ({"Last-Event-ID": "99999999999999999999"}, ""),
        ):
            refused = await reader.get(url + query, headers=headers)
            assert refused.status_code == 422
            assert refused.json()["error"]["field"] == "after"


async def test_proxies_are_told_to_pass_each_event_at_once(server: LiveServer) -> None:
    """Neither cached nor buffered; a HEAD answers the stream's headers and ends, so the
    same connection serves the next request at once."""
    async with signed_in(server) as author:
        thread_id = (await open_thread(author))["thread"]["id"]
    url = f"/api/threads/{thread_id}/events"
    one_connection = httpx.Limits(max_connections=1)
    async with client(server, limits=one_connection) as reader:
        async with events(reader, url) as stream:
            headers = stream.response.headers
            assert headers["cache-control"] == "no-cache"
            assert headers["x-accel-buffering"] == "no"
        for _ in range(2):
            head = await reader.head(url, timeout=5)
            assert head.status_code == 200
            # Media types are case-insensitive (RFC 9110, 8.3.1).
            assert head.headers["content-type"].lower().startswith("text/event-stream")
            assert head.headers["cache-control"] == "no-cache"


async def test_a_stream_ends_after_its_lifetime_for_the_reader_to_reconnect(
    sqlite_url: str, tmp_path: Path
) -> None:
    """So that a restart waits for no stream longer than its lifetime, and readers
    spread over the workers as they reconnect."""
    settings = make_settings(sqlite_url, tmp_path).with_(
        extra={"sse_lifetime_s": 0.5, "sse_keepalive_s": KEEPALIVE_S}
    )
    async with live_server(settings) as live, signed_in(live) as author, client(live) as reader:
        thread_id = (await open_thread(author))["thread"]["id"]
        loop = asyncio.get_running_loop()
        async with events(reader, f"/api/threads/{thread_id}/events") as stream:
            opened = loop.time()
            with pytest.raises(AssertionError, match="the stream ended"):
                await stream.next(wait=5.0)
        assert loop.time() - opened >= 0.4
