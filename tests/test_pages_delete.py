"""Deleting a post from the pages takes a confirmation step, without JavaScript."""

from __future__ import annotations

import re

from tests.capture import EventCapture
from tests.discussions_support import line_id, open_thread, snapshot
from tests.support import Client, LiveServer, client, token_in

BODY = "Libraries should stay open late for those who work by day."


async def test_delete_is_a_link_to_a_confirmation_that_deletes(
    server: LiveServer, http: Client, capture_events: EventCapture
) -> None:
    await http.signup()
    created = await open_thread(http, body=BODY)
    thread_id, post_id = created["thread"]["id"], created["post"]["id"]
    c3 = await line_id(server, "C3")
    page = (await http.get(f"/threads/{thread_id}")).text
    assert f'action="/posts/{post_id}/delete"' not in page
    assert f'href="/posts/{post_id}/delete"' in page

    # The old one-click form (no confirm) deletes nothing: it comes to the confirmation.
    before = await snapshot(server)
    async with capture_events(server, expected=0, threads=(thread_id,), lines=(c3,)):
        one_click = await http.post(f"/posts/{post_id}/delete", data={"csrf_token": token_in(page)})
    assert one_click.status_code == 303
    assert one_click.headers["location"] == f"/posts/{post_id}/delete"
    assert await snapshot(server) == before

    confirm = (await http.get(one_click.headers["location"])).text
    excerpt = re.search(r'<blockquote class="excerpt"[^>]*>([^<]*)</blockquote>', confirm)
    assert excerpt and excerpt.group(1) == BODY
    assert re.search(rf'<form method="post" action="/posts/{post_id}/delete"', confirm)
    assert 'name="confirm" value="1"' in confirm
    deleted = await http.post(
        f"/posts/{post_id}/delete", data={"csrf_token": token_in(confirm), "confirm": "1"}
    )
    assert deleted.status_code == 303
    after = (await http.get(f"/threads/{thread_id}")).text
    assert "This post was deleted" in after and BODY not in after


async def test_nobody_is_asked_to_confirm_what_they_may_not_delete(
    server: LiveServer, http: Client
) -> None:
    await http.signup()
    post_id = (await open_thread(http, body=BODY))["post"]["id"]
    async with client(server) as other:
        await other.signup()
        refused = await other.get(f"/posts/{post_id}/delete")
    assert refused.status_code == 403
    assert BODY not in refused.text
    async with client(server) as stranger:
        signed_out = await stranger.get(f"/posts/{post_id}/delete")
    assert signed_out.status_code == 401
