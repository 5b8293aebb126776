"""Absolute links (feeds) come from the configured public URL, never from the Host
header a client sends."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from forum.limits import MemoryRateLimiter
from forum.settings import DEFAULT_PUBLIC_URL, Settings, default_public_url
from run import settle_public_url
from tests.discussions_support import open_thread, reply
from tests.people import set_role, signed_in
from tests.support import client, live_server, make_settings

EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def links(document: bytes) -> list[str]:
    feed = feedparser.parse(document)
    assert feed.bozo == 0, feed.get("bozo_exception")
    found = [feed.feed.id, *(link.href for link in feed.feed.links)]
    for entry in feed.entries:
        found += [entry.id, *(link.href for link in entry.links)]
    return found


async def test_feed_links_follow_the_public_url_whatever_the_host_header(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    public = "https://agora.example.org/forum"
    settings = make_settings(sqlite_url, tmp_path).with_(public_url=public)
    async with (
        live_server(settings, limiter=limiter) as server,
        signed_in(server) as author,
        client(server) as reader,
    ):
        assert author.user
        await set_role(server, "media-caucus", author.user["id"], "coordinator")
        created = await open_thread(author, code="C9", title="Community radio", body="Yes.")
        position = await reply(
            author, created["thread"]["id"], "The caucus agrees.", group="media-caucus"
        )
        for path, post in (
            ("/action-lines/C9/feed.atom", created["post"]),
            ("/groups/media-caucus/positions.atom", position),
        ):
            response = await reader.get(path, headers=EVIL)
            assert response.status_code == 200
            assert "evil.example" not in response.text
            found = links(response.content)
            assert f"{public}{path}" in found
            assert f"{public}/posts/{post['id']}" in found
            assert all(link.startswith(f"{public}/") for link in found), found


async def test_without_a_public_url_feeds_link_to_the_default(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    async with (
        live_server(make_settings(sqlite_url, tmp_path), limiter=limiter) as server,
        client(server) as reader,
    ):
        response = await reader.get("/action-lines/C9/feed.atom", headers=EVIL)
    assert links(response.content)[0] == f"{DEFAULT_PUBLIC_URL}/action-lines/C9/feed.atom"


def test_run_py_sets_the_public_url_from_the_address_it_serves() -> None:
    environ: dict[str, str] = {}
    assert settle_public_url("127.0.0.1", 8123, environ) is True
    assert environ["FORUM_PUBLIC_URL"] == "http://127.0.0.1:8123"
    given = {"FORUM_PUBLIC_URL": "https://agora.example.org"}
    assert settle_public_url("0.0.0.0", 80, given) is False  # noqa: S104
    assert given == {"FORUM_PUBLIC_URL": "https://agora.example.org"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://agora.example.org/", "https://agora.example.org"),
        ("https://Agora.Example.org:8443/wsis/", "https://agora.example.org:8443/wsis"),
        ("  http://[::1]:8000  ", "http://[::1]:8000"),
        ("", DEFAULT_PUBLIC_URL),
    ],
)
def test_public_url_from_the_environment(tmp_path: Path, given: str, expected: str) -> None:
    env = {"FORUM_DATA_DIR": str(tmp_path), "FORUM_SECRET_KEY": "k" * 40}
    settings = Settings.from_env({**env, "FORUM_PUBLIC_URL": given})
    assert settings.public_url == expected


@pytest.mark.parametrize(
    "given",
    [
        "agora.example.org",
        "ftp://agora.example.org",
        "javascript:alert(1)",
        "https://",
        "https://agora.example.org/?next=evil",
        "https://agora.example.org/#x",
        "https://user:secret@agora.example.org",
    ],
)
def test_a_wrong_public_url_stops_the_start(tmp_path: Path, given: str) -> None:
    env = {"FORUM_DATA_DIR": str(tmp_path), "FORUM_SECRET_KEY": "k" * 40}
    with pytest.raises(ValueError, match="FORUM_PUBLIC_URL"):
        Settings.from_env({**env, "FORUM_PUBLIC_URL": given})


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("forum.local", 8080, "http://forum.local:8080"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),  # noqa: S104
        ("::", 8000, "http://127.0.0.1:8000"),
        ("::1", 8000, "http://[::1]:8000"),
    ],
)
def test_default_public_url(host: str, port: int, expected: str) -> None:
    assert default_public_url(host, port) == expected
