"""The post alone, as a reader's thread page shows it (`/posts/{id}/article`, what a
live page inserts), and the revisions page's word diff. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

from tests.discussions_support import open_thread, reply
from tests.people import set_role, signed_in
from tests.support import LiveServer, client


def _article(html: str, post_id: int) -> str:
    match = re.search(rf'<article [^>]*id="post-{post_id}".*?</article>', html, re.S)
    assert match, f"no post {post_id}"
    return match.group(0)


def _markup(html: str) -> str:
    """The markup without the whitespace between tags, which the two templates lay out
    differently and a browser does not show."""
    return " ".join(re.sub(r">\s+<", "><", html).split())


async def test_a_post_alone_is_the_post_of_the_readers_thread_page(server: LiveServer) -> None:
    async with (
        signed_in(server) as coordinator,
        client(server) as chair,
        client(server) as anonymous,
    ):
        assert coordinator.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        chair_user = await chair.signup()
        await set_role(server, "youth-caucus", chair_user["id"], "chair")
        created = await coordinator.post(
            "/api/action-lines/C4/threads",
            json={"title": "Childcare", "body": "Budget *for* it.", "group": "gender-caucus"},
        )
        position = created.json()["post"]
        thread_id = created.json()["thread"]["id"]
        answer = await reply(coordinator, thread_id, "And <b>schools</b>.", position["id"])

        for reader in (anonymous, chair):
            page = (await reader.get(f"/threads/{thread_id}")).text
            for post_id in (position["id"], answer["id"]):
                alone = await reader.get(f"/posts/{post_id}/article")
                assert alone.status_code == 200
                assert alone.headers["content-type"].startswith("text/html")
                assert _markup(alone.text) == _markup(_article(page, post_id))

        signed_out = (await anonymous.get(f"/posts/{position['id']}/article")).text
        assert "footer" not in signed_out and "Reply" not in signed_out
        assert "csrf_token" not in signed_out
        assert (
            "&lt;b&gt;schools&lt;/b&gt;"
            in (await anonymous.get(f"/posts/{answer['id']}/article")).text
        )
        theirs = (await chair.get(f"/posts/{position['id']}/article")).text
        assert f'action="/posts/{position["id"]}/cosign"' in theirs and ">Reply<" in theirs
        assert (await anonymous.get("/posts/999999/article")).status_code == 404


async def test_revisions_show_what_changed_word_by_word(server: LiveServer) -> None:
    async with signed_in(server) as author, client(server) as anonymous:
        created = await open_thread(author, body="Libraries open <b>early</b> on Sundays")
        post_id = created["post"]["id"]
        edited = await author.patch(
            f"/api/posts/{post_id}", json={"body": "Libraries open <b>late</b> on Sundays too"}
        )
        assert edited.status_code == 200
        page = (await anonymous.get(f"/posts/{post_id}/revisions")).text
    [diff] = re.findall(r'<div class="diff" dir="auto">(.*?)</div>', page, re.S)
    assert diff.startswith("Libraries open ")
    assert (
        '<del><span class="visually-hidden">Removed: </span>&lt;b&gt;early&lt;/b&gt;'
        '<span class="visually-hidden"> (end of removal)</span></del>'
    ) in diff
    assert '<ins><span class="visually-hidden">Added: </span>&lt;b&gt;late&lt;/b&gt;' in diff
    assert diff.endswith(
        'Sundays<ins><span class="visually-hidden">Added: </span> too'
        '<span class="visually-hidden"> (end of addition)</span></ins>'
    )
    # The first version has nothing to differ from: its text, once.
    assert page.count("on Sundays too") == 1
