"""A sign-in lasts until it expires or the account is deactivated, on every transport;
and a person's interventions in a room are bounded like their posts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.sql import Executable
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from forum.db.base import utcnow
from forum.db.models import AuthSession, User
from forum.limits import MemoryRateLimiter
from forum.ws.protocol import CLOSE_UNAUTHENTICATED
from tests.factory import PASSWORD
from tests.people import person
from tests.rooms_support import peer, schedule_and_open
from tests.support import Client, LiveServer, client, live_server, make_settings, registration


async def _change(server: LiveServer, statement: Executable) -> None:
    async with server.state["sessionmaker"]() as session, session.begin():
        await session.execute(statement)


async def test_registration_answers_without_the_password(http: Client) -> None:
    body = registration()
    response = await http.post("/api/accounts", json=body)
    assert response.status_code == 201
    answer = response.text
    assert "password" not in response.json()
    assert body["password"] not in answer and "$argon2" not in answer


@pytest.mark.parametrize("ended", ["expired", "deactivated"])
async def test_an_ended_sign_in_is_refused_by_cookie_token_and_websocket(
    server: LiveServer, ended: str
) -> None:
    async with client(server) as browser:
        account = await browser.signup()
        assert (await browser.get("/api/me")).status_code == 200
        member = await person(server, role="member")
        assert (await browser.get("/api/me")).status_code == 200
        if ended == "expired":
            await _change(
                server,
                update(AuthSession)
                .where(AuthSession.user_id.in_([account["id"], member.id]))
                .values(expires_at=utcnow() - timedelta(seconds=1)),
            )
        else:
            await _change(
                server,
                update(User).where(User.id.in_([account["id"], member.id])).values(is_active=False),
            )
        assert (await browser.get("/api/me")).status_code == 401
        async with client(server, headers={"Authorization": f"Bearer {member.token}"}) as api:
            assert (await api.get("/api/me")).status_code == 401
        # The handshake is accepted, then closed with 4401: the page says "sign in again".
        async with connect(server.ws_url + "/ws", additional_headers=member.headers(server)) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert ws.close_code == CLOSE_UNAUTHENTICATED


async def test_a_deactivated_account_cannot_sign_in_and_is_told_as_a_wrong_password(
    server: LiveServer, http: Client
) -> None:
    account = await http.register()
    await _change(server, update(User).where(User.id == account["id"]).values(is_active=False))
    for password in (PASSWORD, "not the password at all"):
        response = await http.post(
            "/api/auth/login", json={"email": account["email"], "password": password}
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"


async def test_interventions_are_limited_per_person(
    sqlite_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    settings = make_settings(sqlite_url, tmp_path).with_(post_limit=3, post_window=60)
    async with live_server(settings, limiter=limiter) as server:
        chair = await person(server, role="chair")
        await schedule_and_open(chair)
        async with peer(server, chair) as c:
            assert (await c.join("participant"))["type"] == "joined"
            for n in range(3):
                said = await c.call({"type": "speak", "body": f"Point {n}."})
                assert said["type"] == "ack", said
            refused = await c.call({"type": "speak", "body": "One point too many."})
            assert refused["type"] == "error" and refused["code"] == "rate_limited"
            assert refused["retry_after_ms"] > 0
            # Other frames are not interventions: the chair still runs the room.
            assert (await c.call({"type": "ping"}))["type"] == "pong"
