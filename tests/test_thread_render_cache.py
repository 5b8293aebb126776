"""A thread page served from what the worker keeps is, byte for byte, the page rendered
afresh for the same reader: the author, another member, a moderator, a group's
coordinator who may co-sign, the secretariat, a French reader and a signed-out one;
and what one reader's request left in memory never reaches another's page."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import update

from forum.db.models import User
from forum.settings import Settings
from tests.people import set_role
from tests.support import Client, client, live_server, make_secretariat, make_settings

# Chairs of this group moderate C3; its coordinators speak for it.
MODERATING = "human-rights-caucus"


async def _world(settings: Settings) -> tuple[list[str], dict[str, httpx.Cookies]]:
    """A thread of replies, a co-signed position and a deleted post, read by people in
    every role; their page addresses and browser cookies."""
    async with live_server(settings) as server:
        names = ("author", "other", "moderator", "coordinator", "secretariat", "french")
        people: dict[str, Client] = {}
        for name in names:
            people[name] = client(server)
            await people[name].signup(display_name=f"{name.title()} <b>&amp;</b>")
        ids = {name: http.user["id"] for name, http in people.items() if http.user}
        await set_role(server, MODERATING, ids["moderator"], "chair")
        await set_role(server, "gender-caucus", ids["coordinator"], "coordinator")
        await make_secretariat(server, ids["secretariat"])
        async with server.state["sessionmaker"]() as session, session.begin():
            await session.execute(
                update(User).where(User.id == ids["french"]).values(language="fr")
            )
        author, other, moderator = people["author"], people["other"], people["moderator"]
        opened = await author.post(
            "/api/action-lines/C3/threads", json={"title": "Libraries", "body": "Open *all* day"}
        )
        thread_id = opened.json()["thread"]["id"]
        posts = [opened.json()["post"]["id"]]
        for n, who in enumerate((other, author, moderator, other, author)):
            answer = await who.post(
                f"/api/threads/{thread_id}/posts",
                json={"body": f"Reply {n}", "parent_id": posts[-1] if n % 2 else None},
            )
            posts.append(answer.json()["id"])
        position = await moderator.post(
            f"/api/threads/{thread_id}/posts", json={"body": "Ours.", "group": MODERATING}
        )
        assert position.status_code == 201, position.text
        await people["coordinator"].post(
            f"/api/posts/{position.json()['id']}/cosignatures", json={"group": "gender-caucus"}
        )
        assert (await other.delete(f"/api/posts/{posts[1]}")).status_code == 200
        paths = [
            f"/threads/{thread_id}",
            f"/threads/{thread_id}?at={posts[3]}",
            f"/threads/{thread_id}?reply_to={posts[2]}",
        ]
        cookies = {name: http.cookies for name, http in people.items()}
        for http in people.values():
            await http.aclose()
    return paths, cookies


async def _read(
    settings: Settings, order: list[tuple[str, str]], cookies: dict[str, httpx.Cookies]
) -> dict[tuple[str, str], bytes]:
    """The pages as one worker serves them, read in `order` (reader, path)."""
    pages = {}
    async with live_server(settings) as server:
        for name, path in order:
            headers = {"Accept-Language": "fr"} if name == "anonymous-fr" else {}
            async with client(server, cookies=cookies.get(name), headers=headers) as http:
                response = await http.get(path)
            assert response.status_code == 200, (name, path, response.text)
            pages[(name, path)] = response.content
    return pages


async def test_a_kept_page_is_the_page_rendered_afresh_for_each_reader(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sqlite_url, tmp_path)
    paths, cookies = await _world(settings)
    readers = [*cookies, "anonymous", "anonymous-fr"]
    # Each reader alone on a worker of their own: nothing kept but their own reads.
    fresh = {}
    for name in readers:
        fresh.update(await _read(settings, [(name, path) for path in paths], cookies))
    # One worker for all, each page read twice by everyone in turn, so that every
    # reader is served what the others' reads left.
    order = [(name, path) for path in paths for _ in range(2) for name in readers]
    shared = await _read(settings, order, cookies)
    for (name, path), page in shared.items():
        assert page == fresh[(name, path)], (name, path)

    # The pages differ where their readers do: their names, their tokens, their buttons.
    first = paths[0]
    author, other = fresh[("author", first)].decode(), fresh[("other", first)].decode()
    profile = re.compile(r'href="/profile"[^>]*><bdi>([^<]*)</bdi>')
    assert profile.findall(author) == ["Author &lt;b&gt;&amp;amp;&lt;/b&gt;"]
    assert profile.findall(other) == ["Other &lt;b&gt;&amp;amp;&lt;/b&gt;"]
    edits = re.compile(r'href="/posts/(\d+)/edit"')
    # Each edits their own posts only.
    assert edits.findall(author) and edits.findall(other)
    assert not set(edits.findall(author)) & set(edits.findall(other))
    tokens = {
        re.findall(r'name="csrf_token" value="([^"]+)"', fresh[(n, first)].decode())[0]
        for n in cookies
    }
    assert len(tokens) == len(cookies)
    assert "Lock thread" in fresh[("moderator", first)].decode()
    assert "Lock thread" not in author
    assert "Withdraw the co-signature" in fresh[("coordinator", first)].decode()
    assert 'lang="fr"' in fresh[("french", first)].decode()[:200]
    assert 'name="csrf_token"' not in fresh[("anonymous", first)].decode()
    assert "\x00" not in "".join(page.decode() for page in shared.values())
