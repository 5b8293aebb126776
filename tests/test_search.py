"""Full-text search: the same tests on SQLite FTS5 and PostgreSQL full-text search."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from forum.db.models import Post
from forum.db.search import fts5_query, snippet_html
from tests.discussions_support import open_thread, reply
from tests.people import set_role, signed_in
from tests.support import Client, LiveServer, client


async def hits(http: Client, **params: Any) -> list[dict[str, Any]]:
    response = await http.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["hits"])


async def test_search_ranks_filters_and_marks_hits_safely(server: LiveServer) -> None:
    async with (
        signed_in(server) as activist,
        signed_in(server, family="government", country="FR") as official,
        signed_in(server) as coordinator,
        client(server) as anonymous,
    ):
        assert coordinator.user
        await set_role(server, "gender-caucus", coordinator.user["id"], "coordinator")
        titled = await open_thread(
            activist, code="C3", title="Telecentres everywhere", body="Access points in villages."
        )
        bodied = await open_thread(
            official, code="C2", title="Backbone", body="We fund telecentres <b>and</b> fibre."
        )
        position = await coordinator.post(
            "/api/action-lines/C4/threads",
            json={
                "title": "Skills",
                "body": "Train telecentres staff, women first.",
                "group": "gender-caucus",
            },
        )
        assert position.status_code == 201
        comment = await reply(activist, titled["thread"]["id"], "Solar power for telecentres")

        found = await hits(anonymous, q="telecentres")
        assert len(found) == 4
        # A hit in the title outranks hits in bodies.
        assert found[0]["post_id"] == titled["post"]["id"]
        assert found[0]["rank"] >= found[1]["rank"]
        by_post = {h["post_id"]: h for h in found}
        snippet = by_post[bodied["post"]["id"]]["snippet_html"]
        assert "<mark>telecentres</mark>" in snippet.lower()
        # Text that looks like markup is escaped (PostgreSQL's excerpt drops it).
        assert "<b>" not in snippet and "fibre" in snippet

        only = await hits(anonymous, q="telecentres", action_line="C2")
        assert [h["post_id"] for h in only] == [bodied["post"]["id"]]
        governments = await hits(anonymous, q="telecentres", family="government")
        assert [h["post_id"] for h in governments] == [bodied["post"]["id"]]
        positions = await hits(anonymous, q="telecentres", kind="position")
        assert [h["kind"] for h in positions] == ["position"]
        assert positions[0]["group"]["slug"] == "gender-caucus"
        grouped = await hits(anonymous, q="telecentres", group="gender-caucus")
        assert [h["post_id"] for h in grouped] == [positions[0]["post_id"]]
        comments = await hits(anonymous, q="telecentres", kind="comment")
        assert len(comments) == 3

        # Dates: move one post into the past.
        async with server.state["sessionmaker"]() as session, session.begin():
            await session.execute(
                update(Post)
                .where(Post.id == comment["id"])
                .values(created_at=datetime(2005, 11, 16, 12, tzinfo=UTC))
            )
        tunis = await hits(anonymous, q="telecentres", since="2005-11-16", until="2005-11-18")
        assert [h["post_id"] for h in tunis] == [comment["id"]]
        later = await hits(anonymous, q="telecentres", since="2006-01-01")
        assert comment["id"] not in {h["post_id"] for h in later} and len(later) == 3
        same_day = await hits(anonymous, q="telecentres", until="2005-11-16")
        assert [h["post_id"] for h in same_day] == [comment["id"]]

        # Paging by offset gives the rest.
        first = await anonymous.get("/api/search", params={"q": "telecentres", "limit": 2})
        assert first.json()["next_offset"] == 2
        rest = await hits(anonymous, q="telecentres", limit=2, offset=2)
        assert len(rest) == 2


async def test_query_language_and_index_follows_edits(server: LiveServer) -> None:
    async with signed_in(server) as author, client(server) as anonymous:
        a = await open_thread(author, title="One", body="community radio licences")
        b = await open_thread(author, title="Two", body="radio spectrum auctions")
        c = await open_thread(author, title="Three", body="community networks")
        ids = {name: t["post"]["id"] for name, t in (("a", a), ("b", b), ("c", c))}

        async def found(q: str) -> set[int]:
            return {h["post_id"] for h in await hits(anonymous, q=q)}

        assert await found("community radio") == {ids["a"]}
        assert await found('"radio licences"') == {ids["a"]}
        assert await found('"licences radio"') == set()
        assert await found("radio -community") == {ids["b"]}
        assert await found("auctions OR networks") == {ids["b"], ids["c"]}
        for garbage in ('"', "*", "AND (", "NOT", "-", "col:umn", 'a"b', "((", "OR OR"):
            response = await anonymous.get("/api/search", params={"q": garbage})
            assert response.status_code == 200, garbage

        await author.patch(f"/api/posts/{ids['a']}", json={"body": "satellite footprints"})
        assert await found("licences") == set()
        assert await found("satellite") == {ids["a"]}
        await author.delete(f"/api/posts/{ids['c']}")
        assert await found("networks") == set()

        empty = await anonymous.get("/api/search", params={"q": "  "})
        assert empty.status_code == 422
        bad = await anonymous.get("/api/search", params={"q": "x", "family": "press"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "family"
        bad_date = await anonymous.get("/api/search", params={"q": "x", "since": "yesterday"})
        assert bad_date.status_code == 422

        page = await anonymous.get("/search", params={"q": "satellite"})
        assert page.status_code == 200 and "<mark>satellite</mark>" in page.text
        assert (await anonymous.get("/search")).status_code == 200


@pytest.mark.parametrize(
    ("typed", "expression"),
    [
        ("radio", '("radio")'),
        ("community radio", '("community" AND "radio")'),
        ('"a phrase" word', '("a phrase" AND "word")'),
        ("a OR b", '("a") OR ("b")'),
        ("a -b", '(("a")) NOT "b"'),
        ("a -b -c", '((("a")) NOT "b") NOT "c"'),
        ('-"x y" a', '(("a")) NOT "x y"'),
        ("radi*", '("radi" *)'),
        ('say "hi', '("say" AND "hi")'),
        ('quote"inside', '("quote""inside")'),
        ("-only", None),
        ("* - ( )", None),
        ("", None),
    ],
)
def test_fts5_queries_are_always_well_formed(typed: str, expression: str | None) -> None:
    assert fts5_query(typed) == expression


@pytest.mark.parametrize(
    ("raw", "html"),
    [
        ("plain \x02hit\x03 text", "plain <mark>hit</mark> text"),
        ("<script>\x02x\x03</script>", "&lt;script&gt;<mark>x</mark>&lt;/script&gt;"),
        ('"\x02q\x03"', "&quot;<mark>q</mark>&quot;"),
        ("\x02open", "<mark>open</mark>"),
        ("stray\x03 \x02\x02twice\x03", "stray <mark>twice</mark>"),
    ],
)
def test_snippets_are_escaped_before_marking(raw: str, html: str) -> None:
    assert snippet_html(raw) == html
