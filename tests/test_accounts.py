"""Registration, sign-in, sessions and their refusals, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import func, select

from forum.auth import SESSION_COOKIE
from forum.db.models import AuthSession, User
from forum.limits import MemoryRateLimiter
from forum.passwords import hasher_for
from forum.settings import Settings
from tests.factory import PASSWORD
from tests.support import (
    Client,
    FakeClock,
    LiveServer,
    client,
    live_server,
    make_settings,
    production_hashing,
    registration,
)


async def count_users(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_register_login_me_logout(server: LiveServer, http: Client) -> None:
    created = await http.register(display_name="Amina Diallo", country="sn")
    assert created["region"] == "africa"
    assert created["country"] == "SN"
    me = await http.login(created["email"])
    assert me["display_name"] == "Amina Diallo"
    assert (await http.get("/api/me")).json()["email"] == created["email"]

    response = await http.post("/api/auth/logout")
    assert response.status_code == 204
    assert (await http.get("/api/me")).status_code == 401


async def test_password_is_stored_as_argon2id_and_never_returned(
    server: LiveServer, http: Client
) -> None:
    password = "ünïcödé-pässwörd-" + "x" * 47  # 64 characters, not ASCII
    body = registration(password=password)
    response = await http.post("/api/accounts", json=body)
    assert response.status_code == 201
    assert password not in response.text and "argon2" not in response.text
    async with server.state["sessionmaker"]() as session:
        user = await session.scalar(select(User).where(User.email == body["email"]))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    await http.login(body["email"], password)


async def test_email_is_case_insensitive_and_unique(server: LiveServer, http: Client) -> None:
    body = registration(email="Delegate@Example.ORG")
    assert (await http.post("/api/accounts", json=body)).status_code == 201
    again = await http.post("/api/accounts", json={**body, "email": "delegate@example.org"})
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "email_taken",
        "message": "An account with this email exists already; sign in instead.",
        "field": "email",
    }
    assert await count_users(server) == 1
    await http.login("DELEGATE@example.org")


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"password": "short"}, 422, "weak_password", "password"),
        ({"password": "password123"}, 422, "weak_password", "password"),
        ({"password": "aaaaaaaaaaaaaaaa"}, 422, "weak_password", "password"),
        ({"email": "not-an-email"}, 422, "validation_error", "email"),
        ({"family": "press"}, 422, "validation_error", "family"),
        ({"country": "XX"}, 422, "validation_error", "country"),
        ({"country": "FRA"}, 422, "too_large", "country"),
        ({"display_name": ""}, 422, "validation_error", "display_name"),
        ({"display_name": "Eve\u202egnp.exe"}, 422, "validation_error", "display_name"),
        ({"display_name": "a" * 101}, 422, "too_large", "display_name"),
        ({"organization": "x\u200b"}, 422, "validation_error", "organization"),
        ({"email": None}, 422, "validation_error", "email"),
        ({"surprise": 1}, 422, "validation_error", "surprise"),
    ],
)
async def test_bad_registrations_are_refused_and_write_nothing(
    server: LiveServer,
    http: Client,
    change: dict[str, object],
    status: int,
    code: str,
    field: str,
) -> None:
    response = await http.post("/api/accounts", json=registration(**change))
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["field"] == field
    assert error["message"]
    assert await count_users(server) == 0


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "invalid_json"),
        (b"[1, 2]", {"content-type": "application/json"}, 400, "invalid_json"),
        (b"\xff\xfe", {"content-type": "application/json"}, 400, "invalid_json"),
        (b"email=a", {"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported"),
        (
            b'{"email": "' + b"a" * 300_000 + b'"}',
            {"content-type": "application/json"},
            413,
            "too_large",
        ),
    ],
)
async def test_malformed_bodies_are_refused(
    server: LiveServer,
    http: Client,
    content: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = await http.post("/api/accounts", content=content, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert await count_users(server) == 0


async def test_wrong_password_and_unknown_email_answer_alike(
    server: LiveServer, http: Client
) -> None:
    user = await http.register()
    wrong = await http.post(
        "/api/auth/login", json={"email": user["email"], "password": "nope" * 3}
    )
    unknown = await http.post(
        "/api/auth/login", json={"email": "nobody@example.org", "password": "nope" * 3}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert SESSION_COOKIE not in wrong.cookies and SESSION_COOKIE not in unknown.cookies


async def test_login_timing_does_not_reveal_whether_the_account_exists(
    settings: Settings, limiter: MemoryRateLimiter
) -> None:
    # At the production cost: a skipped hash must stand out from the rest of a request.
    async with (
        live_server(production_hashing(settings), limiter=limiter) as server,
        client(server) as http,
    ):
        await _timing_alike(http)


async def _timing_alike(http: Client) -> None:
    user = await http.register()

    async def cost(email: str) -> float:
        # The CPU time of this process (client, server and the hashing thread): unlike
        # the wall clock, what other processes of a busy machine take is not in it.
        start = time.process_time()
        await http.post("/api/auth/login", json={"email": email, "password": "wrong-password"})
        return time.process_time() - start

    # Alternate, and stay under the failure limit of each email (5): 4 tries each.
    known, unknown = [], []
    for n in range(4):
        known.append(await cost(user["email"]))
        unknown.append(await cost(f"ghost{n}@example.org"))
    # The least of each: a try costs at least its work. Both paths run one argon2
    # verification (tens of ms of CPU); a skipped hash would show as a ratio far from 1.
    ratio = min(known) / min(unknown)
    assert 0.5 < ratio < 2.0, (known, unknown)


def test_passwords_are_hashed_at_the_library_cost_unless_set(tmp_path: Path) -> None:
    library = extract_parameters(PasswordHasher().hash(PASSWORD))
    default = Settings.from_env({}, data_dir=tmp_path, secret_key="k" * 40)
    assert extract_parameters(hasher_for(default).hash(PASSWORD)) == library
    cheap = Settings.from_env(
        {
            "FORUM_PASSWORD_TIME_COST": "1",
            "FORUM_PASSWORD_MEMORY_COST": "8",
            "FORUM_PASSWORD_PARALLELISM": "1",
        },
        data_dir=tmp_path,
        secret_key="k" * 40,
    )
    params = extract_parameters(hasher_for(cheap).hash(PASSWORD))
    assert (params.time_cost, params.memory_cost, params.parallelism) == (1, 8, 1)


async def test_a_server_at_the_default_cost_stores_hashes_of_the_library_cost(
    settings: Settings, limiter: MemoryRateLimiter
) -> None:
    async with (
        live_server(production_hashing(settings), limiter=limiter) as server,
        client(server) as http,
    ):
        user = await http.signup()
        async with server.state["sessionmaker"]() as session:
            stored = await session.scalar(select(User.password_hash).where(User.id == user["id"]))
    assert stored is not None and not PasswordHasher().check_needs_rehash(stored)


async def test_sixth_failed_login_is_rate_limited_even_with_the_right_password(
    server: LiveServer, http: Client, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    user = await http.register()
    caplog.set_level(logging.WARNING, logger="forum.security")
    for _ in range(5):
        response = await http.post(
            "/api/auth/login", json={"email": user["email"], "password": "wrong-password"}
        )
        assert response.status_code == 401
    blocked = await http.post(
        "/api/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert int(blocked.headers["retry-after"]) > 0
    message = blocked.json()["error"]["message"]
    assert re.fullmatch(r"Too many sign-in attempts; try again in [1-9]\d* s\.", message)
    async with server.state["sessionmaker"]() as session:
        assert await session.scalar(select(func.count()).select_from(AuthSession)) == 0
    assert any(getattr(r, "code", None) == "rate_limited" for r in caplog.records)
    assert PASSWORD not in caplog.text

    clock.advance(15 * 60 + 1)
    await http.login(user["email"])


async def test_registration_is_rate_limited_per_address(
    server: LiveServer, http: Client, clock: FakeClock
) -> None:
    for _ in range(10):
        await http.register()
    response = await http.post("/api/accounts", json=registration())
    assert response.status_code == 429
    assert await count_users(server) == 10
    clock.advance(3601)
    await http.register()


async def test_registrations_sent_at_once_take_only_the_places_left(
    database_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    settings = make_settings(database_url, tmp_path).with_(register_attempts=3)
    async with live_server(settings, limiter=limiter) as live:
        bodies = [registration() for _ in range(12)]
        async with client(live, limits=httpx.Limits(max_connections=len(bodies))) as burst:
            responses = await asyncio.gather(*(burst.post("/api/accounts", json=b) for b in bodies))
        assert sorted(r.status_code for r in responses) == [201] * 3 + [429] * 9
        for refused in (r for r in responses if r.status_code == 429):
            assert refused.json()["error"]["code"] == "rate_limited"
            assert int(refused.headers["retry-after"]) >= 1
        assert await count_users(live) == 3


async def test_session_rotates_and_logout_kills_the_cookie_on_the_server(
    server: LiveServer,
) -> None:
    async with client(server) as first, client(server) as second:
        user = await first.register()
        await first.login(user["email"])
        cookie_one = first.cookies[SESSION_COOKIE]
        await second.login(user["email"])
        assert second.cookies[SESSION_COOKIE] != cookie_one
        assert (await first.post("/api/auth/logout")).status_code == 204
        async with client(server) as replay:
            replay.cookies.set(SESSION_COOKIE, cookie_one)
            assert (await replay.get("/api/me")).status_code == 401
        # The other session lives on.
        assert (await second.get("/api/me")).status_code == 200


async def test_session_cookie_is_hardened(server: LiveServer, http: Client) -> None:
    user = await http.register()
    response = await http.post(
        "/api/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    header = ";".join(
        v for v in response.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE)
    ).lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header


async def test_secure_cookie_when_served_over_https(sqlite_url: str, tmp_path: object) -> None:
    from pathlib import Path

    from tests.support import live_server, make_settings

    settings = make_settings(sqlite_url, Path(str(tmp_path))).with_(secure_cookies=True)
    async with live_server(settings) as live, client(live) as http:
        user = await http.register()
        response = await http.post(
            "/api/auth/login", json={"email": user["email"], "password": PASSWORD}
        )
        cookies = [c.lower() for c in response.headers.get_list("set-cookie")]
        assert all("secure" in c for c in cookies)
        assert "strict-transport-security" in response.headers


async def test_cookies_are_secure_behind_an_https_proxy(server: LiveServer, http: Client) -> None:
    user = await http.register()
    response = await http.post(
        "/api/auth/login",
        json={"email": user["email"], "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},  # from 127.0.0.1, a trusted proxy
    )
    cookies = [c.lower() for c in response.headers.get_list("set-cookie")]
    assert len(cookies) == 2 and all("; secure" in c for c in cookies)
    async with client(server) as fresh:
        page = await fresh.get("/login", headers={"X-Forwarded-Proto": "https"})
    [csrf_cookie] = page.headers.get_list("set-cookie")
    assert "; secure" in csrf_cookie.lower()


async def test_bearer_token_for_api_clients(server: LiveServer, http: Client) -> None:
    user = await http.register()
    response = await http.post(
        "/api/auth/token", json={"email": user["email"], "password": PASSWORD}
    )
    assert response.status_code == 201
    token = response.json()["token"]
    async with client(server, headers={"Authorization": f"Bearer {token}"}) as api:
        assert (await api.get("/api/me")).json()["id"] == user["id"]
        # No cookie, so no CSRF token is needed for writes.
        assert (await api.post("/groups/x", json={})).status_code in {404, 405}
        joined = await api.post("/api/groups/africa-caucus/join", json={})
        assert joined.status_code == 201
        assert (await api.post("/api/auth/logout")).status_code == 204
        assert (await api.get("/api/me")).status_code == 401
    async with client(server, headers={"Authorization": "Bearer agora_forged"}) as forged:
        assert (await forged.get("/api/me")).status_code == 401


async def test_forged_cookie_is_refused(server: LiveServer) -> None:
    async with client(server) as http:
        http.cookies.set(SESSION_COOKIE, "abc.def")
        assert (await http.get("/api/me")).status_code == 401


async def test_logs_hold_no_password_token_or_hash(
    server: LiveServer, http: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await http.register()
    await http.login(user["email"])
    await http.post("/api/auth/login", json={"email": user["email"], "password": "wrong-one-x"})
    # The server's loggers only: the test's own HTTP client logs what it sends.
    server_side = ("forum", "uvicorn", "starlette", "sqlalchemy", "aiosqlite", "asyncpg")
    text = "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith(server_side)
    )
    assert text
    assert PASSWORD not in text and "wrong-one-x" not in text
    assert "$argon2" not in text
    assert http.cookies[SESSION_COOKIE] not in text


async def test_an_address_of_254_characters_registers_and_signs_in(http: Client) -> None:
    """254 characters is the longest address mail can carry (RFC 5321): registration
    and sign-in both take it whole."""
    email = "a" * 64 + "@" + "d" * (254 - 64 - 1 - 4) + ".org"
    assert len(email) == 254
    created = await http.register(email=email)
    assert created["email"] == email
    assert (await http.login(email))["email"] == email
