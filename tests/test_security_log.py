"""Each refusal of RELIABILITY rows 5-11 writes one structured line to the security log:
who, from which address and origin, and why (row 16), on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from forum.settings import Settings
from tests.discussions_support import open_thread, reply
from tests.factory import PASSWORD
from tests.people import person
from tests.rooms_support import peer, schedule_and_open
from tests.support import Client, LiveServer, client, make_settings, token_in

POST_LIMIT = 3


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path).with_(
        post_limit=POST_LIMIT, max_request_bytes=8 * 1024
    )


@pytest.fixture
def security(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="forum.security")
    return caplog


async def one_line(
    caplog: pytest.LogCaptureFixture,
    refuse: Callable[[], Awaitable[httpx.Response]],
    status: int,
) -> dict[str, str]:
    """Make one refused request; the one security line it wrote, as its fields."""
    caplog.clear()
    response = await refuse()
    assert response.status_code == status, response.text
    lines = [r for r in caplog.records if r.name == "forum.security"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    fields = {k.removeprefix("forum_"): v for k, v in vars(lines[0]).items() if k[:6] == "forum_"}
    assert fields["code"] == response.json()["error"]["code"]
    assert fields["ip"] == "127.0.0.1"
    return fields


async def test_refused_writes_log_who_where_and_why(
    server: LiveServer, http: Client, security: pytest.LogCaptureFixture
) -> None:
    me = await http.signup()
    mine = str(me["id"])
    created = await open_thread(http)
    thread_id, post_id = created["thread"]["id"], created["post"]["id"]
    here = {"Origin": server.origin}

    # Row 5: a wrong token, a cross-site origin, on the API and on a form.
    fields = await one_line(
        security,
        lambda: http.post(
            "/api/groups/africa-caucus/join", json={}, headers={**here, "X-CSRF-Token": "x"}
        ),
        403,
    )
    assert fields == fields | {
        "code": "csrf_failed",
        "user_id": mine,
        "origin": server.origin,
        "path": "/api/groups/africa-caucus/join",
    }
    evil = {"Origin": "https://evil.example"}
    fields = await one_line(
        security,
        lambda: http.post(f"/threads/{thread_id}", data={"body": "b"}, headers=evil),
        403,
    )
    assert fields["origin"] == "https://evil.example" and fields["user_id"] == mine

    # Row 8: a write the caller may not make.
    async with client(server) as other:
        them = await other.signup()
        fields = await one_line(
            security,
            lambda: other.patch(f"/api/posts/{post_id}", json={"body": "mine now"}, headers=here),
            403,
        )
        assert fields["code"] == "forbidden" and fields["user_id"] == str(them["id"])

    # Row 9: a body over the cap.
    fields = await one_line(
        security,
        lambda: http.post(
            f"/api/threads/{thread_id}/posts", json={"body": "x" * 9000}, headers=here
        ),
        413,
    )
    assert fields["code"] == "too_large" and fields["user_id"] == mine

    # Row 10: one post over the limit, over the API and through the thread's form,
    # which shows the form again with the refusal rather than an error page.
    for n in range(POST_LIMIT - 1):
        await reply(http, thread_id, f"reply {n}")
    fields = await one_line(
        security,
        lambda: http.post(f"/api/threads/{thread_id}/posts", json={"body": "b"}, headers=here),
        429,
    )
    assert fields["code"] == "rate_limited" and fields["user_id"] == mine
    token = token_in((await http.get(f"/threads/{thread_id}")).text)
    security.clear()
    page = await http.post(
        f"/threads/{thread_id}", data={"body": "b", "csrf_token": token}, headers=here
    )
    assert page.status_code == 429
    [line] = [r for r in security.records if r.name == "forum.security"]
    assert vars(line)["forum_code"] == "rate_limited"
    assert vars(line)["forum_path"] == f"/threads/{thread_id}"

    # Row 7/8: a write with no credentials at all.
    async with client(server) as anonymous:
        fields = await one_line(
            security,
            lambda: anonymous.post(
                f"/api/threads/{thread_id}/posts", json={"body": "b"}, headers=here
            ),
            401,
        )
        assert fields["code"] == "unauthenticated" and "user_id" not in fields


async def test_sign_in_refusals_log_the_origin_and_the_account(
    server: LiveServer, security: pytest.LogCaptureFixture
) -> None:
    async with client(server) as http:
        me = await http.register()
        here = {"Origin": server.origin}
        wrong = {"email": me["email"], "password": "not the password"}
        for _ in range(4):
            await http.post("/api/auth/login", json=wrong, headers=here)
        fields = await one_line(
            security, lambda: http.post("/api/auth/login", json=wrong, headers=here), 401
        )
        assert fields == fields | {
            "code": "invalid_credentials",
            "origin": server.origin,
            "user_id": str(me["id"]),
            "path": "/api/auth/login",
        }
        right = {"email": me["email"], "password": PASSWORD}
        fields = await one_line(
            security, lambda: http.post("/api/auth/login", json=right, headers=here), 429
        )
        assert fields["code"] == "rate_limited" and fields["origin"] == server.origin
        # The sign-in form shows the refusal on the page, and logs it once too.
        page = await http.get("/login")
        form = {**right, "csrf_token": token_in(page.text)}
        security.clear()
        refused = await http.post("/login", data=form, headers=here)
        assert refused.status_code == 429
        [line] = [r for r in security.records if r.name == "forum.security"]
        assert vars(line)["forum_origin"] == server.origin
        assert vars(line)["forum_path"] == "/login"


async def test_websocket_refusals_log_one_line_each(
    server: LiveServer, security: pytest.LogCaptureFixture
) -> None:
    chair = await person(server, role="chair")
    observer = await person(server, family="civil_society")
    await schedule_and_open(chair)
    async with peer(server, observer) as seated, peer(server) as anonymous:
        assert (await seated.join("observer"))["seat"] == "observer"
        security.clear()
        refused = await seated.call({"type": "raise_hand"})
        assert refused["code"] == "observer_cannot_speak"
        [line] = [r for r in security.records if r.name == "forum.security"]
        assert {k: v for k, v in vars(line).items() if k.startswith("forum_")} == {
            "forum_code": "observer_cannot_speak",
            "forum_ip": "127.0.0.1",
            "forum_origin": server.origin,
            "forum_user_id": str(observer.id),
            "forum_path": "/ws",
            "forum_detail": "raise_hand",
        }
        security.clear()
        assert (await anonymous.join("participant"))["code"] == "unauthenticated"
        [line] = [r for r in security.records if r.name == "forum.security"]
        assert vars(line)["forum_code"] == "unauthenticated"
        assert vars(line)["forum_detail"] == "join"
