"""Bad input and abuse on /ws: each answered as docs/protocol.md says, and the server
and the other clients carry on."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from forum.ws.protocol import (
    CLOSE_FLOOD,
    CLOSE_UNAUTHENTICATED,
)
from tests.factory import GROUP
from tests.people import api, person
from tests.rooms_support import peer
from tests.support import LiveServer, live_server, make_settings


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://127.0.0.1.evil.example", "HTTP://evil"],
)
async def test_wrong_origin_gets_403(sqlite_server: LiveServer, origin: str) -> None:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(sqlite_server.ws_url + "/ws", additional_headers={"Origin": origin}):
            pass
    assert caught.value.response.status_code == 403


async def test_own_origin_and_no_origin_connect(sqlite_server: LiveServer) -> None:
    async with peer(sqlite_server) as p:
        assert (await p.call({"type": "ping"}))["type"] == "pong"
    async with connect(sqlite_server.ws_url + "/ws") as ws:
        assert json.loads(await ws.recv())["type"] == "hello"


async def test_bad_frames_get_error_frames_and_the_connection_stays(
    sqlite_server: LiveServer,
) -> None:
    member = await person(sqlite_server, role="member")
    async with peer(sqlite_server, member) as p:
        cases = [
            ("{not json", "invalid_json"),
            ("[1, 2]", "invalid_json"),
            ("[" * 5000 + "]" * 5000, "invalid_json"),
            (json.dumps({"type": "shout"}), "bad_request"),
            (json.dumps({"type": "join", "room": GROUP, "seat": "throne"}), "validation_error"),
            (json.dumps({"type": "move", "user_id": 10**30, "position": 0}), "validation_error"),
            (json.dumps({"type": "raise_hand"}), "conflict"),  # not in a room yet
            (json.dumps({"type": "join", "room": "no-such-room", "seat": "remote"}), "not_found"),
        ]
        for text, code in cases:
            await p.ws.send(text)
            frame = await p.expect("error")
            assert frame["code"] == code, text
        assert (await p.call({"type": "ping"}))["type"] == "pong"


async def test_oversized_frame_closes_1009_and_others_carry_on(
    sqlite_server: LiveServer,
) -> None:
    async with peer(sqlite_server) as big, peer(sqlite_server) as bystander:
        await big.ws.send("x" * (sqlite_server.state["settings"].ws_max_size + 1))
        with pytest.raises(ConnectionClosed):
            await big.next()
        assert big.ws.close_code == 1009
        assert (await bystander.call({"type": "ping"}))["type"] == "pong"


async def test_flood_is_rate_limited(sqlite_server: LiveServer) -> None:
    allowed = sqlite_server.state["settings"].ws_frames_per_window
    async with peer(sqlite_server) as p:
        for _ in range(allowed + 5):
            await p.ws.send(json.dumps({"type": "ping"}))
        limited = await p.expect("error", code="rate_limited")
        assert limited["retry_after_ms"] > 0
        pongs = [f for f in p.seen if f["type"] == "pong"]
        assert len(pongs) == allowed


async def test_credentials(sqlite_server: LiveServer) -> None:
    # No credentials: connected, but may not join.
    async with peer(sqlite_server) as anonymous:
        refused = await anonymous.join("observer")
        assert refused["code"] == "unauthenticated"
    # Unknown or expired credentials: closed with 4401.
    headers = {"Origin": sqlite_server.origin, "Authorization": "Bearer agora_forged"}
    async with connect(sqlite_server.ws_url + "/ws", additional_headers=headers) as ws:
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == CLOSE_UNAUTHENTICATED


async def test_room_one_may_not_enter(sqlite_server: LiveServer) -> None:
    outsider = await person(sqlite_server, family="private_sector")
    async with peer(sqlite_server, outsider) as p:
        as_participant = await p.join("participant")
        assert as_participant["code"] == "forbidden"
        # No observer seat for the private sector under the default policy.
        assert (await p.join("observer"))["code"] == "forbidden"
        assert (await p.call({"type": "ping"}))["type"] == "pong"


async def test_logout_closes_the_socket_within_two_seconds(sqlite_server: LiveServer) -> None:
    member = await person(sqlite_server, role="member")
    async with peer(sqlite_server, member) as p:
        assert (await p.join("remote"))["type"] == "joined"
        response = await api(member, "POST", "/api/auth/logout")
        assert response.status_code == 204
        with pytest.raises(ConnectionClosed):
            while True:
                await p.next(wait=2)
        assert p.ws.close_code == CLOSE_UNAUTHENTICATED
    await asyncio.sleep(0.1)
    state = await api(await person(sqlite_server, role="member"), "GET", f"/api/rooms/{GROUP}")
    assert member.id not in {u["user_id"] for u in state.json()["presence"]["users"]}
    headers = member.headers(sqlite_server)
    async with connect(sqlite_server.ws_url + "/ws", additional_headers=headers) as ws:
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == CLOSE_UNAUTHENTICATED


async def test_origins_listed_in_settings_are_allowed_besides_our_own(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sqlite_url, tmp_path).with_(allowed_origins=("https://agora.example",))
    async with live_server(settings) as server:
        for origin in ("https://agora.example", server.origin):
            async with connect(server.ws_url + "/ws", additional_headers={"Origin": origin}) as ws:
                assert json.loads(await ws.recv())["type"] == "hello"
        for origin in ("https://agora.example.evil", "http://agora.example", "null"):
            with pytest.raises(InvalidStatus) as caught:
                async with connect(server.ws_url + "/ws", additional_headers={"Origin": origin}):
                    pass
            assert caught.value.response.status_code == 403


async def test_invalid_utf8_closes_1007_and_binary_closes_1003(
    sqlite_server: LiveServer,
) -> None:
    async with (
        peer(sqlite_server) as bad_text,
        peer(sqlite_server) as binary,
        peer(sqlite_server) as bystander,
    ):
        await bad_text.ws.send(b'{"type": "ping", "ref": "\xff\xfe"}', text=True)
        await binary.ws.send(b'{"type": "ping"}')
        for p, code in ((bad_text, 1007), (binary, 1003)):
            with pytest.raises(ConnectionClosed):
                await p.next()
            assert p.ws.close_code == code
            assert not [f for f in p.seen if f["type"] == "pong"]
        assert (await bystander.call({"type": "ping"}))["type"] == "pong"


async def test_a_flood_past_the_tolerance_closes_4429_and_others_carry_on(
    sqlite_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sqlite_server.state["settings"]
    member = await person(sqlite_server, role="member")
    async with peer(sqlite_server, member) as flooder, peer(sqlite_server) as bystander:
        for _ in range(settings.ws_frames_per_window + settings.ws_flood_tolerance + 1):
            await flooder.ws.send(json.dumps({"type": "ping"}))
        with pytest.raises(ConnectionClosed):
            while True:
                await flooder.next()
        assert flooder.ws.close_code == CLOSE_FLOOD
        limited = [f for f in flooder.seen if f.get("code") == "rate_limited"]
        assert len(limited) == settings.ws_flood_tolerance + 1
        assert (await bystander.call({"type": "ping"}))["type"] == "pong"
    floods = [r for r in caplog.records if r.name == "forum.security"]
    assert len(floods) == 1
    assert floods[0].forum_code == "rate_limited"  # type: ignore[attr-defined]
    assert floods[0].forum_user_id == str(member.id)  # type: ignore[attr-defined]


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "forum.security"]


async def test_each_refusal_logs_one_line_without_secrets(
    sqlite_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = sqlite_server
    caplog.set_level(logging.WARNING, logger="forum.security")
    evil = "https://evil.example"
    with pytest.raises(InvalidStatus):
        async with connect(server.ws_url + "/ws", additional_headers={"Origin": evil}):
            pass
    [line] = refusals(caplog)
    assert line.forum_code == "forbidden"  # type: ignore[attr-defined]
    assert line.forum_ip == "127.0.0.1" and line.forum_origin == evil  # type: ignore[attr-defined]
    message = line.getMessage()
    assert "code='forbidden'" in message and "ip='127.0.0.1'" in message and evil in message

    secrets = ["agora_forged-token-0123456789", "forged-cookie-value-0123456789"]
    attempts = [
        {"Authorization": f"Bearer {secrets[0]}"},
        {"Cookie": f"forum_session={secrets[1]}"},
    ]
    for headers in attempts:
        caplog.clear()
        headers = {**headers, "Origin": server.origin}
        async with connect(server.ws_url + "/ws", additional_headers=headers) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.close_code == CLOSE_UNAUTHENTICATED
        [line] = refusals(caplog)
        assert line.forum_code == "unauthenticated"  # type: ignore[attr-defined]
        assert line.forum_ip == "127.0.0.1"  # type: ignore[attr-defined]
        assert line.forum_origin == server.origin  # type: ignore[attr-defined]
        for secret in secrets:
            assert secret not in caplog.text
            assert all(secret not in str(value) for value in vars(line).values())
