"""The discussion pages as a browser without JavaScript uses them: forms with the CSRF
field, redirects after writes, refusals shown with the text kept; CSRF and the post
rate limit refuse and store nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forum.settings import Settings
from tests.capture import EventCapture
from tests.discussions_support import line_id, open_thread, snapshot
from tests.people import set_role
from tests.support import Client, FakeClock, LiveServer, client, make_settings, token_in

POST_LIMIT = 3


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path).with_(post_limit=POST_LIMIT, post_window=60)


async def test_a_browser_without_javascript_takes_part(server: LiveServer, http: Client) -> None:
    me = await http.signup()
    board = await http.get("/action-lines/C3")
    assert 'action="/action-lines/C3"' in board.text
    token = token_in(board.text)
    assert token == http.csrf  # the session's token, as sign-in over the API gave it

    opened = await http.post(
        "/action-lines/C3",
        data={"csrf_token": token, "title": "Libraries", "body": "Open *all* day"},
    )
    assert opened.status_code == 303
    thread_url = opened.headers["location"]
    thread_id = int(thread_url.rsplit("/", 1)[1])
    page = await http.get(thread_url)
    assert "<em>all</em>" in page.text and 'id="reply"' in page.text

    first_id = int(re.findall(r'id="post-(\d+)"', page.text)[0])
    form = await http.get(f"{thread_url}?reply_to={first_id}")
    assert f'name="parent_id" value="{first_id}"' in form.text
    replied = await http.post(
        thread_url,
        data={"csrf_token": token, "body": "And on Sundays", "parent_id": str(first_id)},
    )
    assert replied.status_code == 303 and "#post-" in replied.headers["location"]
    reply_id = int(replied.headers["location"].rsplit("-", 1)[1])

    # A refused form comes back with the reason and the text typed so far.
    refused = await http.post(
        "/action-lines/C3", data={"csrf_token": token, "title": "Kept title", "body": "  "}
    )
    assert refused.status_code == 422
    assert "must not be blank" in refused.text and 'value="Kept title"' in refused.text

    edit_form = await http.get(f"/posts/{reply_id}/edit")
    assert "And on Sundays" in edit_form.text
    edited = await http.post(
        f"/posts/{reply_id}/edit", data={"csrf_token": token, "body": "And on holidays"}
    )
    assert edited.status_code == 303
    history = await http.get(f"/posts/{reply_id}/revisions")
    assert "And on Sundays" in history.text and "And on holidays" in history.text

    confirm = await http.get(f"/posts/{reply_id}/delete")
    deleted = await http.post(
        f"/posts/{reply_id}/delete", data={"csrf_token": token_in(confirm.text), "confirm": "1"}
    )
    assert deleted.status_code == 303
    after = await http.get(thread_url)
    assert "This post was deleted" in after.text and "holidays" not in after.text

    permalink = await http.get(f"/posts/{first_id}")
    assert permalink.status_code == 200 and "Libraries" in permalink.text
    assert me["display_name"] in permalink.text

    # The chair of a group following C3 locks the thread from the page.
    async with client(server) as chair:
        chair_user = await chair.signup()
        await set_role(server, "human-rights-caucus", chair_user["id"], "chair")
        chair_page = await chair.get(thread_url)
        assert "Lock thread" in chair_page.text
        locked = await chair.post(
            f"/threads/{thread_id}/lock",
            data={"csrf_token": token_in(chair_page.text), "locked": "1"},
        )
        assert locked.status_code == 303
    closed = await http.get(thread_url)
    assert "locked" in closed.text and 'action="/threads/' not in closed.text


async def test_forms_and_cookie_writes_without_the_csrf_token_change_nothing(
    server: LiveServer, http: Client, capture_events: EventCapture
) -> None:
    await http.signup()
    created = await open_thread(http)
    thread_id, post_id = created["thread"]["id"], created["post"]["id"]
    c3 = await line_id(server, "C3")
    attempts = [
        ("/action-lines/C3", {"title": "t", "body": "b"}),
        (f"/threads/{thread_id}", {"body": "b"}),
        (f"/posts/{post_id}/edit", {"body": "b"}),
        (f"/posts/{post_id}/delete", {"confirm": "1"}),
        (f"/threads/{thread_id}/lock", {"locked": "1"}),
        (f"/posts/{post_id}/cosign", {"group": "gender-caucus"}),
    ]
    for url, form in attempts:
        for token in (None, "x" * 43):
            data = form if token is None else {**form, "csrf_token": token}
            before = await snapshot(server)
            async with capture_events(server, expected=0, threads=(thread_id,), lines=(c3,)):
                response = await http.post(url, data=data)
            assert response.status_code == 403, (url, token, response.text)
            assert await snapshot(server) == before, url

    # Cookie-authenticated JSON writes need the header as well.
    for method, url, body in [
        ("POST", f"/api/threads/{thread_id}/posts", {"body": "b"}),
        ("PATCH", f"/api/posts/{post_id}", {"body": "b"}),
        ("DELETE", f"/api/posts/{post_id}", None),
        ("PUT", f"/api/threads/{thread_id}/lock", {"locked": True}),
    ]:
        before = await snapshot(server)
        response = await http.request(method, url, json=body, headers={"X-CSRF-Token": "wrong"})
        assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
        assert await snapshot(server) == before


async def test_posting_is_rate_limited_per_account(
    server: LiveServer, http: Client, clock: FakeClock, capture_events: EventCapture
) -> None:
    await http.signup()
    created = await open_thread(http)  # the first of POST_LIMIT posts
    thread_id = created["thread"]["id"]
    for n in range(POST_LIMIT - 1):
        ok = await http.post(f"/api/threads/{thread_id}/posts", json={"body": f"post {n}"})
        assert ok.status_code == 201
    c3 = await line_id(server, "C3")
    before = await snapshot(server)
    async with capture_events(server, expected=0, threads=(thread_id,), lines=(c3,)):
        limited = await http.post(f"/api/threads/{thread_id}/posts", json={"body": "one more"})
        new_thread = await http.post(
            "/api/action-lines/C3/threads", json={"title": "t", "body": "b"}
        )
    assert limited.status_code == 429 and new_thread.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    assert await snapshot(server) == before

    # Another account is not held back, and the window passes.
    async with client(server) as other:
        await other.signup()
        assert (
            await other.post(f"/api/threads/{thread_id}/posts", json={"body": "hi"})
        ).status_code == 201
    clock.advance(61)
    again = await http.post(f"/api/threads/{thread_id}/posts", json={"body": "later"})
    assert again.status_code == 201


async def test_the_signed_out_page_is_shared_and_no_signed_in_view_leaks(
    server: LiveServer, http: Client
) -> None:
    me = await http.signup()
    token = token_in((await http.get("/action-lines/C3")).text)
    opened = await http.post(
        "/action-lines/C3", data={"csrf_token": token, "title": "Shared", "body": "For everyone"}
    )
    thread_url = opened.headers["location"]
    # The author reads first: their name, their buttons, their token; nothing to share.
    mine = await http.get(thread_url)
    assert me["display_name"] in mine.text and "/edit" in mine.text and token in mine.text
    assert "etag" not in mine.headers

    async with client(server) as anonymous:
        page = await anonymous.get(thread_url)
        assert page.status_code == 200 and "For everyone" in page.text
        assert "csrf_token" not in page.text and token not in page.text
        assert "/edit" not in page.text and "Sign out" not in page.text
        assert "set-cookie" not in page.headers
        etag = page.headers["etag"]
        assert (await anonymous.get(thread_url)).content == page.content
        unchanged = await anonymous.get(thread_url, headers={"If-None-Match": etag})
        assert unchanged.status_code == 304 and unchanged.content == b""

        # Signed in, the reader gets their own page whatever tag they send.
        again = await http.get(thread_url, headers={"If-None-Match": etag})
        assert again.status_code == 200 and token in again.text and "/edit" in again.text
        assert "etag" not in again.headers

        replied = await http.post(thread_url, data={"csrf_token": token, "body": "A second word"})
        assert replied.status_code == 303
        fresh = await anonymous.get(thread_url, headers={"If-None-Match": etag})
        assert fresh.status_code == 200 and "A second word" in fresh.text
        assert fresh.headers["etag"] != etag and "csrf_token" not in fresh.text

    # What all readers share of a post is shared; each one's buttons are their own.
    async with client(server) as other:
        await other.signup()
        theirs = await other.get(thread_url)
        assert "A second word" in theirs.text and "?reply_to=" in theirs.text
        assert "/edit" not in theirs.text and token not in theirs.text
        assert "/edit" in (await http.get(thread_url)).text
