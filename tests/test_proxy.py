"""Agora behind the nginx configuration it ships (docs/nginx/agora.conf): the file passes
`nginx -t`, and a page, a sign-in, a room join and an event stream work through it."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.discussions_support import open_thread
from tests.factory import PASSWORD
from tests.people import person
from tests.proxy_support import Proxy, running, write_proxy
from tests.rooms_support import Peer
from tests.support import Client, LiveServer

LIMIT = 256 * 1024


def test_the_shipped_configuration_passes_nginx_t(tmp_path: Path) -> None:
    proxy = write_proxy(tmp_path / "nginx", upstream_port=8000)
    result = subprocess.run(proxy.command("-t"), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def through(proxy: Proxy) -> Client:
    return Client(base_url=proxy.url, verify=proxy.tls(), timeout=10)


async def test_pages_sign_in_rooms_and_event_streams_work_through_nginx(
    sqlite_server: LiveServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sqlite_server.state["settings"]
    assert settings.max_request_bytes == LIMIT and not settings.secure_cookies
    proxy = write_proxy(tmp_path / "nginx", int(sqlite_server.url.rsplit(":", 1)[1]))
    async with running(proxy), through(proxy) as http:
        # A page, compressed; HTTP is sent to HTTPS.
        page = await http.get("/", headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
        assert "<html" in page.text
        async with httpx.AsyncClient() as plain:
            moved = await plain.get(f"http://127.0.0.1:{proxy.http_port}/threads")
        assert moved.status_code == 301
        assert moved.headers["location"].startswith("https://127.0.0.1")

        # X-Forwarded-Proto: the forum knows it is served over HTTPS, so its cookies
        # are Secure although FORUM_SECURE_COOKIES is off.
        account = await http.register()
        signed_in = await http.post(
            "/api/auth/login", json={"email": account["email"], "password": PASSWORD}
        )
        assert signed_in.status_code == 200
        assert "secure" in signed_in.headers["set-cookie"].lower()
        http.csrf = signed_in.json()["csrf_token"]

        # X-Forwarded-For: the client's address as the proxy saw it, never one the
        # client wrote itself.
        caplog.set_level(logging.INFO, logger="forum.security")
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.3", verify=proxy.tls())
        async with httpx.AsyncClient(base_url=proxy.url, transport=transport) as elsewhere:
            refused = await elsewhere.post(
                "/api/action-lines/C3/threads",
                json={"title": "t", "body": "b"},
                headers={"X-Forwarded-For": "203.0.113.9"},
            )
        assert refused.status_code == 401
        lines = [r.getMessage() for r in caplog.records if r.name == "forum.security"]
        assert any("ip='127.0.0.3'" in line for line in lines), lines
        assert not any("203.0.113.9" in line for line in lines), lines

        # Bodies: what the forum accepts passes; one byte more is refused by the proxy
        # in the forum's error shape, and never reaches it.
        filler = "x" * (LIMIT - len(json.dumps({"title": "t", "body": ""})))
        at_limit = json.dumps({"title": "t", "body": filler})
        assert len(at_limit) == LIMIT
        headers = {"content-type": "application/json"}
        url = "/api/action-lines/C3/threads"
        accepted = await http.post(url, content=at_limit, headers=headers)
        assert accepted.status_code == 413, accepted.text  # the forum's own body cap
        assert "content-security-policy" in accepted.headers
        over = await http.post(url, content=at_limit + " ", headers=headers)
        assert over.status_code == 413
        assert over.json()["error"]["code"] == "too_large"
        assert "content-security-policy" not in over.headers

        # A WebSocket join: the upgrade passes, and the Origin matches the Host and
        # scheme the proxy forwards.
        member = await person(sqlite_server, role="member")
        headers = {"Authorization": f"Bearer {member.token}", "Origin": proxy.url}
        async with connect(proxy.ws_url + "/ws", additional_headers=headers, ssl=proxy.tls()) as ws:
            peer = Peer(ws)
            assert (await peer.next())["type"] == "hello"
            joined = await peer.join("remote")
            assert joined["type"] == "joined", joined

        # An event stream: not compressed, not buffered, each event through at once.
        thread = (await open_thread(http))["thread"]
        stream_url = f"/api/threads/{thread['id']}/events?after={thread['seq']}"
        async with http.stream("GET", stream_url, headers={"Accept-Encoding": "gzip"}) as sse:
            assert sse.status_code == 200
            assert "content-encoding" not in sse.headers
            lines_in = sse.aiter_lines()
            assert (await anext(lines_in)).startswith("retry:")
            answer = await http.post(
                f"/api/threads/{thread['id']}/posts", json={"body": "Through the proxy."}
            )
            assert answer.status_code == 201
            async with asyncio.timeout(5):
                async for line in lines_in:
                    if line.startswith("data:") and "Through the proxy." in line:
                        break
