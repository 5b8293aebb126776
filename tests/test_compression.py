"""Compressed answers for slow links, through the real server: Brotli or gzip as the
client asks, the same bytes once decoded, never for event streams; static files under
hashed names, cached for a year, and the plain names revalidated."""

from __future__ import annotations

import gzip
import re

import brotli
import httpx
import pytest

from forum.web.compression import choose_encoding
from tests.discussions_support import open_thread
from tests.support import Client, LiveServer, client


async def raw(http: httpx.AsyncClient, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    async with http.stream("GET", path, headers=headers) as response:
        body = b"".join([part async for part in response.aiter_raw()])
    return response, body


def decoded(encoding: str | None, body: bytes) -> bytes:
    if encoding == "br":
        return bytes(brotli.decompress(body))
    if encoding == "gzip":
        return gzip.decompress(body)
    return body


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("identity", None),
        ("*", "br"),
        ("", None),
        ("gzip;q=bogus, br;q=0.5", "br"),
    ],
)
def test_the_encoding_follows_accept_encoding(accept: str, expected: str | None) -> None:
    assert choose_encoding(accept) == expected


@pytest.mark.parametrize("encoding", ["br", "gzip"])
async def test_pages_json_and_feeds_are_compressed(
    sqlite_server: LiveServer, encoding: str
) -> None:
    async with client(sqlite_server) as author:
        await author.signup()
        created = await open_thread(author, body="A long reply. " * 200)
    thread = created["thread"]["id"]
    async with httpx.AsyncClient(base_url=sqlite_server.url) as http:
        for path in (f"/threads/{thread}", f"/api/threads/{thread}", "/action-lines/C3/feed.atom"):
            plain, plain_body = await raw(http, path, **{"accept-encoding": "identity"})
            packed, packed_body = await raw(http, path, **{"accept-encoding": encoding})
            assert packed.status_code == plain.status_code == 200, path
            assert "content-encoding" not in plain.headers, path
            assert packed.headers["content-encoding"] == encoding, path
            assert "accept-encoding" in packed.headers["vary"].lower(), path
            assert "accept-encoding" in plain.headers["vary"].lower(), path
            assert int(packed.headers["content-length"]) == len(packed_body), path
            assert len(packed_body) < len(plain_body) / 3, path
            assert decoded(encoding, packed_body) == plain_body, path


async def test_a_compressed_etag_is_weak_and_still_answers_304(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as author:
        await author.signup()
        created = await open_thread(author, body="Words. " * 300)
    path = f"/api/threads/{created['thread']['id']}"
    async with httpx.AsyncClient(base_url=sqlite_server.url) as http:
        plain, _ = await raw(http, path, **{"accept-encoding": "identity"})
        packed, _ = await raw(http, path, **{"accept-encoding": "br"})
        assert packed.headers["etag"] == "W/" + plain.headers["etag"]
        again, body = await raw(
            http, path, **{"accept-encoding": "br", "if-none-match": packed.headers["etag"]}
        )
        assert again.status_code == 304 and body == b""


async def test_event_streams_and_small_answers_are_not_compressed(
    sqlite_server: LiveServer,
) -> None:
    async with client(sqlite_server) as author:
        await author.signup()
        created = await open_thread(author)
    async with httpx.AsyncClient(base_url=sqlite_server.url, timeout=10) as http:
        small, _ = await raw(http, "/healthz", **{"accept-encoding": "br"})
        assert small.status_code == 200 and "content-encoding" not in small.headers
        path = f"/api/threads/{created['thread']['id']}/events"
        async with http.stream("GET", path, headers={"accept-encoding": "br, gzip"}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in stream.headers


async def test_static_files_have_hashed_names_cached_for_a_year(
    sqlite_server: LiveServer, http: Client
) -> None:
    page = (await http.get("/")).text
    css = re.search(r'href="(/static/forum\.[0-9a-f]{12}\.css)"', page)
    assert css, "the page links its stylesheet by a hashed name"
    async with httpx.AsyncClient(base_url=sqlite_server.url) as plain_client:
        hashed, hashed_body = await raw(plain_client, css.group(1), **{"accept-encoding": "br"})
        assert hashed.status_code == 200
        assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert hashed.headers["content-encoding"] == "br"
        plain, plain_body = await raw(
            plain_client, "/static/forum.css", **{"accept-encoding": "identity"}
        )
        assert plain.headers["cache-control"] == "no-cache"
        assert decoded("br", hashed_body) == plain_body
        # A page cached before a release names an old hash: today's file, not cached long.
        old, _ = await raw(plain_client, "/static/forum.000000000000.css")
        assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"
        missing, _ = await raw(plain_client, "/static/nothing.000000000000.css")
        assert missing.status_code == 404
