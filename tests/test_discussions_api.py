"""Threads, replies, edits, tombstones and locks over the JSON API, on SQLite and
PostgreSQL; every refusal leaves the rows as they were and publishes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from forum.db.models import Post, PostRevision
from forum.text import MAX_BODY_BYTES
from tests.capture import WINDOW_TICK, EventCapture, QueryCounter
from tests.discussions_support import line_id, open_thread, reply, snapshot
from tests.people import set_role, signed_in
from tests.support import Client, LiveServer, client, make_secretariat


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[Client]:
    async with signed_in(server) as author:
        yield author


async def test_replies_nest_and_the_tree_reads_in_order(server: LiveServer, http: Client) -> None:
    created = await open_thread(http, body="Opening **words**")
    thread_id, first = created["thread"]["id"], created["post"]
    assert (
        first["number"] == 1
        and first["html"] == '<p dir="auto">Opening <strong>words</strong></p>\n'
    )
    a = await reply(http, thread_id, "A answers the thread", first["id"])
    b = await reply(http, thread_id, "B answers the thread")
    a1 = await reply(http, thread_id, "A1 answers A", a["id"])
    a1x = await reply(http, thread_id, "A1x answers A1", a1["id"])
    a2 = await reply(http, thread_id, "A2 answers A", a["id"])
    b1 = await reply(http, thread_id, "B1 answers B", b["id"])
    expected = [first["id"], a["id"], a1["id"], a1x["id"], a2["id"], b["id"], b1["id"]]

    async with client(server) as anonymous:
        whole = (await anonymous.get(f"/api/threads/{thread_id}")).json()
        assert [p["id"] for p in whole["posts"]] == expected
        assert [p["depth"] for p in whole["posts"]] == [0, 0, 1, 2, 1, 0, 1]
        assert whole["posts"][3]["parent_number"] == a1["number"]
        assert whole["thread"]["reply_count"] == 6
        # Keyset pages: two at a time, following next_cursor, give the same order.
        seen: list[int] = []
        url = f"/api/threads/{thread_id}?limit=2"
        while url:
            page = (await anonymous.get(url)).json()
            seen += [p["id"] for p in page["posts"]]
            cursor = page["next_cursor"]
            url = f"/api/threads/{thread_id}?limit=2&cursor={cursor}" if cursor else ""
        assert seen == expected
        # A permalink into a long thread starts the page at the post.
        at = (await anonymous.get(f"/api/threads/{thread_id}?at={a2['id']}")).json()
        assert [p["id"] for p in at["posts"]] == expected[4:]
        bad = await anonymous.get(f"/api/threads/{thread_id}?cursor=%%%")
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"
        board = (await anonymous.get("/api/action-lines/C3/threads")).json()
        assert [t["id"] for t in board["threads"]] == [thread_id]
        assert board["seq"] == whole["seq"] == 7


async def test_board_pages_by_latest_activity(server: LiveServer, http: Client) -> None:
    ids = [(await open_thread(http, title=f"Thread {n}"))["thread"]["id"] for n in range(5)]
    await reply(http, ids[1], "bumps thread 1 to the top")
    order = [ids[1], ids[4], ids[3], ids[2], ids[0]]
    seen: list[int] = []
    url = "/api/action-lines/C3/threads?limit=2"
    while url:
        page = (await http.get(url)).json()
        seen += [t["id"] for t in page["threads"]]
        url = (
            f"/api/action-lines/C3/threads?limit=2&cursor={page['next_cursor']}"
            if page["next_cursor"]
            else ""
        )
    assert seen == order
    assert (await http.get("/api/action-lines/C4/threads")).json()["threads"] == []


async def test_authors_edit_and_every_revision_stays_readable(
    server: LiveServer, http: Client, capture_events: EventCapture
) -> None:
    created = await open_thread(http, body="First draft")
    post_id = created["post"]["id"]
    for text in ("Second draft", "Final *text*"):
        response = await http.patch(f"/api/posts/{post_id}", json={"body": text})
        assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["revision_count"] == 3 and edited["edited_at"] is not None
    assert "<em>text</em>" in edited["html"]
    # Saving the same text again is not a revision.
    same = await http.patch(f"/api/posts/{post_id}", json={"body": "Final *text*"})
    assert same.status_code == 200 and same.json()["revision_count"] == 3

    async with client(server) as anonymous:
        history = (await anonymous.get(f"/api/posts/{post_id}/revisions")).json()
        assert [r["body"] for r in history["revisions"]] == [
            "First draft",
            "Second draft",
            "Final *text*",
        ]
        page = await anonymous.get(f"/posts/{post_id}/revisions")
        assert page.status_code == 200
        # Newest first, each later version as what changed from the one before.
        text = page.text
        assert text.index("Version 3 (current)") < text.index("Version 2") < text.index("Version 1")
        assert "Removed: </span>Second" in text and "Added: </span>Final" in text

    async with signed_in(server) as other:
        before = await snapshot(server)
        async with capture_events(server, expected=0, threads=(created["thread"]["id"],)):
            refused = await other.patch(f"/api/posts/{post_id}", json={"body": "Hijacked"})
        assert refused.status_code == 403
        assert await snapshot(server) == before


async def test_deleting_leaves_a_tombstone_kept_for_the_secretariat(
    server: LiveServer, http: Client
) -> None:
    created = await open_thread(http)
    thread_id = created["thread"]["id"]
    mine = await reply(http, thread_id, "A regrettable *remark*")
    deleted = await http.delete(f"/api/posts/{mine['id']}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    again = await http.delete(f"/api/posts/{mine['id']}")
    assert again.status_code == 409

    async with client(server) as anonymous:
        posts = (await anonymous.get(f"/api/threads/{thread_id}")).json()["posts"]
        tombstone = posts[1]
        assert tombstone["deleted"] and tombstone["body"] is None and tombstone["html"] is None
        assert (await anonymous.get(f"/api/posts/{mine['id']}/revisions")).json()["revisions"] == []
        page = await anonymous.get(f"/threads/{thread_id}")
        assert "This post was deleted" in page.text and "regrettable" not in page.text
        feed = await anonymous.get("/action-lines/C3/feed.atom")
        assert "regrettable" not in feed.text
        found = await anonymous.get("/api/search", params={"q": "regrettable"})
        assert found.json()["hits"] == []

    async with signed_in(server) as secretariat:
        await make_secretariat(server, secretariat.user["id"] if secretariat.user else 0)
        kept = (await secretariat.get(f"/api/posts/{mine['id']}")).json()
        assert kept["deleted"] and kept["body"] == "A regrettable *remark*"
        history = (await secretariat.get(f"/api/posts/{mine['id']}/revisions")).json()
        assert len(history["revisions"]) == 1


async def test_moderators_delete_others_posts_and_lock_threads(
    server: LiveServer, http: Client, capture_events: EventCapture
) -> None:
    author = http.user or {}
    created = await open_thread(http)
    thread_id = created["thread"]["id"]
    target = await reply(http, thread_id, "Off topic")
    c3 = await line_id(server, "C3")

    async with (
        signed_in(server) as member,
        signed_in(server) as chair,
        signed_in(server) as elsewhere,
    ):
        assert member.user and chair.user and elsewhere.user
        # The Human Rights Caucus follows C3; the Media Caucus does not.
        await set_role(server, "human-rights-caucus", member.user["id"], "member")
        await set_role(server, "human-rights-caucus", chair.user["id"], "chair")
        await set_role(server, "media-caucus", elsewhere.user["id"], "chair")
        for who in (member, elsewhere):
            before = await snapshot(server)
            async with capture_events(
                server, expected=0, threads=(thread_id,), lines=(c3,)
            ) as published:
                assert (await who.delete(f"/api/posts/{target['id']}")).status_code == 403
                lock = await who.put(f"/api/threads/{thread_id}/lock", json={"locked": True})
                assert lock.status_code == 403
            assert await snapshot(server) == before

        assert (await chair.delete(f"/api/posts/{target['id']}")).status_code == 200
        async with capture_events(
            server, expected=2, threads=(thread_id,), lines=(c3,)
        ) as published:
            locked = await chair.put(f"/api/threads/{thread_id}/lock", json={"locked": True})
        assert locked.status_code == 200 and locked.json()["locked"] is True
        assert [m["op"] for _, m in published.messages] == ["lock", "lock"]

        # Locked: the author can neither reply nor edit; the moderator can still post.
        before = await snapshot(server)
        async with capture_events(
            server, expected=0, threads=(thread_id,), lines=(c3,)
        ) as published:
            refused = await http.post(f"/api/threads/{thread_id}/posts", json={"body": "But!"})
            edit = await http.patch(f"/api/posts/{created['post']['id']}", json={"body": "x"})
        assert refused.status_code == 423 and refused.json()["error"]["code"] == "locked"
        assert edit.status_code == 423
        assert await snapshot(server) == before
        await reply(chair, thread_id, "Locked: please continue in the new thread.")

        unlocked = await chair.put(f"/api/threads/{thread_id}/lock", json={"locked": False})
        assert unlocked.json()["locked"] is False
        await reply(http, thread_id, "Thank you")
    assert author["id"] != 0


Attempt = Callable[[], Awaitable[httpx.Response]]


async def test_bad_posts_are_refused_and_change_nothing(
    server: LiveServer, http: Client, capture_events: EventCapture
) -> None:
    created = await open_thread(http)
    thread_id = created["thread"]["id"]
    other = await open_thread(http, title="Another thread")
    other_post = other["post"]["id"]
    c3 = await line_id(server, "C3")

    async with (
        signed_in(server, family="government", country="FR") as observer,
        client(server) as anonymous,
    ):
        joined = await observer.post("/api/groups/human-rights-caucus/join", json={})
        assert joined.json()["role"] == "observer"

        def post(who: Client, path: str, **body: Any) -> Attempt:
            return lambda: who.post(path, json=body)

        thread_posts = f"/api/threads/{thread_id}/posts"
        cases: list[tuple[str, Attempt, int, str]] = [
            ("signed out", post(anonymous, thread_posts, body="hi"), 401, "unauthenticated"),
            (
                "signed out, new thread",
                post(anonymous, "/api/action-lines/C3/threads", title="t", body="b"),
                401,
                "unauthenticated",
            ),
            ("empty body", post(http, thread_posts, body=""), 422, "validation_error"),
            ("blank body", post(http, thread_posts, body=" \n\t "), 422, "validation_error"),
            (
                "oversized body",
                post(http, thread_posts, body="x" * (MAX_BODY_BYTES + 1)),
                413,
                "too_large",
            ),
            (
                "oversized in UTF-8",
                post(http, thread_posts, body="é" * (MAX_BODY_BYTES // 2 + 1)),
                413,
                "too_large",
            ),
            (
                "reply to another thread's post",
                post(http, thread_posts, body="hi", parent_id=other_post),
                422,
                "validation_error",
            ),
            (
                "reply to no post",
                post(http, thread_posts, body="hi", parent_id=10**9),
                422,
                "validation_error",
            ),
            (
                "unknown action line",
                post(http, "/api/action-lines/C99/threads", title="t", body="b"),
                404,
                "not_found",
            ),
            (
                "unknown thread",
                post(http, "/api/threads/999999/posts", body="hi"),
                404,
                "not_found",
            ),
            (
                "empty title",
                post(http, "/api/action-lines/C3/threads", title=" ", body="b"),
                422,
                "validation_error",
            ),
            (
                "bidi trick in title",
                post(http, "/api/action-lines/C3/threads", title="abc\u202edcba", body="b"),
                422,
                "validation_error",
            ),
            (
                "position for a group one does not lead",
                post(http, thread_posts, body="We hold", group="human-rights-caucus"),
                403,
                "forbidden",
            ),
            (
                "position for no group",
                post(http, thread_posts, body="We hold", group="no-such-group"),
                404,
                "not_found",
            ),
        ]
        for name, attempt, status, code in cases:
            before = await snapshot(server)
            async with capture_events(server, expected=0, threads=(thread_id,), lines=(c3,)):
                response = await attempt()
            assert response.status_code == status, (name, response.text)
            error = response.json()["error"]
            assert error["code"] == code and error["message"], name
            assert await snapshot(server) == before, name

        # An observer seat in a C3 caucus's room takes no voice in the discussion: a
        # government delegate observing a civil society caucus still replies and opens
        # threads on its action line, and everywhere else.
        reply = await observer.post(thread_posts, json={"body": "A government's view"})
        assert reply.status_code == 201, reply.text
        for code in ("C3", "C1"):
            opened = await observer.post(
                f"/api/action-lines/{code}/threads",
                json={"title": "From a government", "body": "Hello"},
            )
            assert opened.status_code == 201, opened.text


async def test_a_thread_loads_in_a_fixed_number_of_queries(
    server: LiveServer, http: Client, count_queries: QueryCounter
) -> None:
    async with signed_in(server) as coordinator, signed_in(server) as signer:
        assert coordinator.user and signer.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        await set_role(server, "media-caucus", signer.user["id"], "chair")
        created = await open_thread(http)
        thread_id = created["thread"]["id"]

        engine = server.state["engine"]

        async def queries_to_read() -> int:
            # Who the session is, kept by the worker for a short window, is read just
            # before, so that a busy machine cannot let it lapse before the counted read.
            assert (await http.get("/api/me")).status_code == 200
            with count_queries(engine, ignore=(WINDOW_TICK,), requests_only=True) as queries:
                response = await http.get(f"/api/threads/{thread_id}")
            assert response.status_code == 200
            return len(queries)

        await reply(http, thread_id, "one")
        small = await queries_to_read()
        for n in range(12):
            parent = None if n % 3 else created["post"]["id"]
            await reply(http, thread_id, f"reply {n}", parent)
        position = await reply(coordinator, thread_id, "Our position", group="gender-caucus")
        cosigned = await signer.post(
            f"/api/posts/{position['id']}/cosignatures", json={"group": "media-caucus"}
        )
        assert cosigned.status_code == 201
        assert await queries_to_read() == small + 1  # + the co-signatures of its positions


async def test_revisions_are_rows_and_edits_render_at_write_time(
    server: LiveServer, http: Client
) -> None:
    created = await open_thread(http, body="v1")
    post_id = created["post"]["id"]
    await http.patch(f"/api/posts/{post_id}", json={"body": "[v2](https://example.org)"})
    async with server.state["sessionmaker"]() as session:
        post = await session.get(Post, post_id)
        revisions = (
            await session.scalars(
                select(PostRevision)
                .where(PostRevision.post_id == post_id)
                .order_by(PostRevision.number)
            )
        ).all()
    assert post is not None and 'rel="nofollow ugc noopener"' in post.html
    assert post.plain == "v2"
    assert [(r.number, r.body) for r in revisions] == [(1, "v1"), (2, "[v2](https://example.org)")]


async def test_a_thread_answers_304_until_its_board_changes(
    server: LiveServer, http: Client
) -> None:
    created = await open_thread(http)
    thread_id, first_id = created["thread"]["id"], created["post"]["id"]
    url = f"/api/threads/{thread_id}"
    # The plain representation, whose tag is strong (a compressed one's is weak:
    # tests/test_compression.py).
    async with client(server, headers={"accept-encoding": "identity"}) as anonymous:
        first = await anonymous.get(url)
        etag = first.headers["etag"]
        assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')
        assert first.headers["cache-control"] == "no-cache"
        assert "Authorization" in first.headers["vary"]

        again = await anonymous.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        assert (await anonymous.get(url)).content == first.content  # the same bytes
        # Other pages of the thread are other representations.
        paged = await anonymous.get(f"{url}?limit=1", headers={"If-None-Match": etag})
        assert paged.status_code == 200 and paged.headers["etag"] != etag

        # A reply changes the thread: the old tag no longer matches.
        await reply(http, thread_id, "Something new")
        changed = await anonymous.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert [p["html"] for p in changed.json()["posts"]][-1].endswith("Something new</p>\n")
        etag = changed.headers["etag"]

        # So does any change on the board, which moves the counter the page shows.
        await open_thread(http, title="Another thread")
        moved = await anonymous.get(url, headers={"If-None-Match": etag})
        assert moved.status_code == 200 and moved.json()["seq"] > changed.json()["seq"]
        etag = moved.headers["etag"]

        # A deletion too; and what the secretariat sees is not what anyone else sees.
        assert (await http.delete(f"/api/posts/{first_id}")).status_code == 200
        tombstone = await anonymous.get(url, headers={"If-None-Match": etag})
        assert tombstone.status_code == 200 and tombstone.json()["posts"][0]["body"] is None
        async with signed_in(server) as secretariat:
            assert secretariat.user
            await make_secretariat(server, secretariat.user["id"])
            kept = await secretariat.get(url, headers={"If-None-Match": tombstone.headers["etag"]})
            assert kept.status_code == 200 and kept.json()["posts"][0]["body"] == "Libraries."
            assert kept.headers["etag"] != tombstone.headers["etag"]
        after = await anonymous.get(url)
        assert after.content == tombstone.content


async def test_a_repeated_read_costs_one_query_whatever_the_thread(
    server: LiveServer, http: Client, count_queries: QueryCounter
) -> None:
    created = await open_thread(http)
    thread_id = created["thread"]["id"]
    engine = server.state["engine"]

    async def queries(path: str, **headers: str) -> tuple[int, httpx.Response]:
        with count_queries(engine, ignore=("BEGIN", WINDOW_TICK)) as counted:
            response = await http.get(path, headers=headers)
        return len(counted), response

    url = f"/api/threads/{thread_id}"
    posts = 1
    for size in (2, 20):
        for _ in range(size - posts):
            await reply(http, thread_id, "more")
        posts = size
        # The board's counter (its reader has just written, so the database is asked:
        # forum/web/write_hint.py), then the thread, its posts; the session is kept.
        assert (await queries(url))[0] == 3
        hit, response = await queries(url)
        assert hit == 1  # the counter: the page comes from memory
        assert len(response.json()["posts"]) == size
        unchanged, response = await queries(url, **{"If-None-Match": response.headers["etag"]})
        assert unchanged == 1 and response.status_code == 304
