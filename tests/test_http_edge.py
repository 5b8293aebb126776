"""What `forum.web.edge` does to every answer, seen from a client of a real server: the
write hint's cookie on a signed-in write that succeeds and on nothing else, a NUL in
the address refused before any route, a HEAD left uncompressed, an answer that fails
once begun cut short with one log line; and its cache of compressed static files."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from tests.support import LiveServer, client, live_server, make_settings


def hint_of(response: httpx.Response) -> str | None:
    """The `forum_wrote` cookie the answer sets, whole, or None."""
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith("forum_wrote=")]
    assert len(cookies) <= 1
    return cookies[0] if cookies else None


@pytest.mark.parametrize(("window_s", "max_age"), [(2.5, 3), (0.2, 1)])
async def test_a_signed_in_write_that_succeeds_leaves_the_hint_and_nothing_else_does(
    sqlite_url: str, tmp_path: Path, window_s: float, max_age: int
) -> None:
    settings = make_settings(sqlite_url, tmp_path).with_(board_trust_s=window_s)
    async with live_server(settings) as live, client(live) as http:
        # Signed out, a write that succeeds leaves nothing.
        user = await http.register()
        assert hint_of(await http.get("/api/me")) is None
        signed_in = await http.post(
            "/api/auth/login", json={"email": user["email"], "password": user["password"]}
        )
        assert signed_in.status_code == 200 and hint_of(signed_in) is None
        http.csrf = signed_in.json()["csrf_token"]

        before = time.time()
        response = await http.post(
            "/api/action-lines/C3/threads", json={"title": "Hinted", "body": "A write."}
        )
        assert response.status_code == 201
        cookie = hint_of(response)
        assert cookie is not None
        value, *attributes = cookie.split("; ")
        assert before - 1 <= float(value.removeprefix("forum_wrote=")) <= time.time() + 1
        # The window in whole seconds, rounded up: the cookie never dies before it.
        assert attributes == [f"Max-Age={max_age}", "Path=/", "HttpOnly", "SameSite=Lax"]
        # Over HTTPS (a proxy says so), the cookie is Secure.
        forwarded = await http.post(
            "/api/action-lines/C3/threads",
            json={"title": "Hinted again", "body": "Another write."},
            headers={"x-forwarded-proto": "https"},
        )
        assert forwarded.status_code == 201
        assert (hint_of(forwarded) or "").endswith("; SameSite=Lax; Secure")

        # Reads, and writes that fail (from 400 up), leave nothing.
        for read in (await http.get("/api/me"), await http.head("/"), await http.get("/")):
            assert read.status_code == 200 and hint_of(read) is None
        refused = await http.post(
            "/api/action-lines/C3/threads",
            content=b"{",
            headers={"content-type": "application/json"},
        )
        assert refused.status_code == 400 and hint_of(refused) is None
        missing = await http.post("/api/action-lines/ZZ9/threads", json={"title": "t", "body": "b"})
        assert missing.status_code == 404 and hint_of(missing) is None


async def test_the_hint_is_secure_when_every_cookie_is(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path).with_(secure_cookies=True)
    async with live_server(settings) as live, client(live) as http:
        user = await http.register()
        signed_in = await http.post(
            "/api/auth/login", json={"email": user["email"], "password": user["password"]}
        )
        http.csrf = signed_in.json()["csrf_token"]
        # httpx keeps Secure cookies for https only: the session is sent by hand.
        cookies = dict(signed_in.cookies.items())
        http.cookies.clear()
        response = await http.post(
            "/api/action-lines/C3/threads",
            json={"title": "Hinted", "body": "A write."},
            headers={"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
        )
        assert response.status_code == 201, response.text
        assert (hint_of(response) or "").endswith("; SameSite=Lax; Secure")


@pytest.fixture
async def errors(caplog: pytest.LogCaptureFixture) -> AsyncIterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.ERROR)
    caplog.set_level(logging.DEBUG, logger="forum.errors.traceback")
    yield caplog


async def test_a_head_is_neither_compressed_nor_varied(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        got = await http.get("/", headers={"accept-encoding": "br"})
        head = await http.head("/", headers={"accept-encoding": "br"})
    assert got.headers["content-encoding"] == "br"
    assert head.status_code == 200 and "content-encoding" not in head.headers
    assert "accept-encoding" not in head.headers.get("vary", "").lower()
    assert head.headers["x-content-type-options"] == "nosniff"


async def test_an_answer_begun_with_no_headers_gets_ours(sqlite_server: LiveServer) -> None:
    """ASGI lets an app leave out `headers`; the answer still carries the forum's."""
    from starlette.routing import Route

    class Bare:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": b"bare"})

    sqlite_server.app.router.routes.append(Route("/bare", Bare()))
    async with client(sqlite_server) as http:
        response = await http.get("/bare", headers={"accept-encoding": "identity"})
    assert response.status_code == 200 and response.content == b"bare"
    assert response.headers["x-frame-options"] == "DENY"


def test_compressed_static_files_are_kept_up_to_the_cache_limit() -> None:
    from forum.web.compression import CACHE_LIMIT
    from forum.web.edge import HttpEdge

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    edge = HttpEdge(app, hsts=False, window_s=1.0, secure=False)
    half = b"x" * (CACHE_LIMIT // 2)
    edge.keep(("a.css", "br"), half)
    assert edge.cached(("a.css", "br")) == half and edge.cached(("a.css", "gzip")) is None
    edge.keep(("b.css", "br"), half)
    assert edge.cached(("b.css", "br")) == half and edge.compressed_bytes == CACHE_LIMIT
    # Full: one byte more is compressed again each time, not kept.
    edge.keep(("c.css", "br"), b"x")
    assert edge.cached(("c.css", "br")) is None and edge.compressed_bytes == CACHE_LIMIT


async def test_a_nul_in_the_address_is_a_400_before_any_route(
    sqlite_server: LiveServer, errors: pytest.LogCaptureFixture
) -> None:
    async with client(sqlite_server) as http:
        await http.signup()
        for path, field in (("/api/threads/a%00b", "path"), ("/api/me?q=a%00b", "query")):
            for method in ("GET", "POST"):
                response = await http.request(method, path)
                assert response.status_code == 400, (method, path)
                error = response.json()["error"]
                assert error["code"] == "bad_request" and error["field"] == field
                assert hint_of(response) is None
                assert response.headers["x-content-type-options"] == "nosniff"
    # The answer is the guard's alone: no route ran after it.
    assert [r for r in errors.records if r.levelno >= logging.ERROR] == []


async def test_an_answer_that_fails_once_begun_is_cut_short_with_one_log_line(
    sqlite_server: LiveServer, errors: pytest.LogCaptureFixture
) -> None:
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    async def parts() -> AsyncIterator[bytes]:
        yield b"the start"
        raise RuntimeError("halfway")

    async def halfway(request: object) -> StreamingResponse:
        return StreamingResponse(parts(), media_type="text/plain")

    sqlite_server.app.router.routes.append(Route("/halfway", halfway))
    async with client(sqlite_server) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/halfway")
    ours, server = [r.getMessage() for r in errors.records if r.levelno >= logging.ERROR]
    assert ours.startswith("unexpected RuntimeError on GET '/halfway', request ")
    request_id = ours.rsplit(" ", 1)[1]
    assert len(request_id) == 16 and int(request_id, 16) >= 0
    # The traceback goes to the debug logger only, under the same id.
    [trace] = [r for r in errors.records if r.name == "forum.errors.traceback"]
    assert trace.getMessage() == f"request {request_id}" and trace.levelno == logging.DEBUG
    assert trace.exc_info is not None and str(trace.exc_info[1]) == "halfway"
    # The server says it closed the connection on an unfinished answer, and no more.
    assert server == "ASGI callable returned without completing response."
