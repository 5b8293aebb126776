"""Sign-in limits under attack (RELIABILITY row 11), on SQLite and PostgreSQL: guesses
sent all at once, a hall behind one address, guessing across accounts and addresses."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from forum.db.models import AuthSession, User
from forum.limits import MemoryRateLimiter
from forum.passwords import Hasher
from forum.settings import Settings
from tests.factory import PASSWORD
from tests.support import Client, FakeClock, LiveServer, client, live_server, make_settings

LOGIN = "/api/auth/login"


def behind(address: str) -> dict[str, str]:
    """Headers of a request relayed by the trusted proxy (uvicorn trusts 127.0.0.1)."""
    return {"X-Forwarded-For": address}


async def sessions(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(AuthSession)) or 0)


def refusal_codes(caplog: pytest.LogCaptureFixture) -> Counter[str]:
    return Counter(
        str(getattr(r, "code", "")) for r in caplog.records if r.name == "forum.security"
    )


async def test_a_burst_of_guesses_gets_no_more_checks_than_the_limit(
    server: LiveServer, http: Client, caplog: pytest.LogCaptureFixture
) -> None:
    user = await http.register()
    guesses: list[dict[str, Any]] = [
        {"email": user["email"], "password": f"wrong guess {n}"} for n in range(80)
    ]
    # The right password in the middle of the burst: the attacker's lucky guess.
    guesses.insert(40, {"email": user["email"], "password": PASSWORD})
    caplog.set_level(logging.WARNING, logger="forum.security")
    async with client(server, limits=httpx.Limits(max_connections=len(guesses))) as burst:
        responses = await asyncio.gather(*(burst.post(LOGIN, json=g) for g in guesses))

    statuses = Counter(r.status_code for r in responses)
    # Five wrong passwords checked, however the burst interleaved; the right one only
    # if it happened to be among the first checks (then it does not count as a failure).
    assert statuses[401] == 5, statuses
    assert statuses[200] <= 1
    assert statuses[429] == len(guesses) - statuses[401] - statuses[200]
    for refused in (r for r in responses if r.status_code == 429):
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
    assert await sessions(server) == statuses[200]
    # One security line per refusal, as for a slow series.
    logged = refusal_codes(caplog)
    assert logged["invalid_credentials"] == 5
    assert logged["rate_limited"] == statuses[429]

    # The limit is passed: the right password is refused too, and opens no session.
    after = await http.post(LOGIN, json={"email": user["email"], "password": PASSWORD})
    assert after.status_code == 429
    assert after.json()["error"]["code"] == "rate_limited"
    assert await sessions(server) == statuses[200]


async def test_one_person_mistyping_behind_a_hall_address_locks_out_nobody_else(
    server: LiveServer, http: Client, clock: FakeClock
) -> None:
    hall = behind("198.51.100.7")
    amina = await http.register()
    bruno = await http.register()
    for n in range(5):
        wrong = {"email": amina["email"], "password": f"mistyped {n}"}
        assert (await http.post(LOGIN, json=wrong, headers=hall)).status_code == 401
    right = {"email": amina["email"], "password": PASSWORD}
    locked = await http.post(LOGIN, json=right, headers=hall)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert int(locked.headers["retry-after"]) >= 1
    assert await sessions(server) == 0

    # Bruno, in the same hall, signs in; so does Amina from her hotel.
    bruno_in = {"email": bruno["email"], "password": PASSWORD}
    assert (await http.post(LOGIN, json=bruno_in, headers=hall)).status_code == 200
    assert (await http.post(LOGIN, json=right, headers=behind("203.0.113.9"))).status_code == 200
    assert await sessions(server) == 2
    # In the hall, Amina waits for the window to pass.
    assert (await http.post(LOGIN, json=right, headers=hall)).status_code == 429
    clock.advance(15 * 60 + 1)
    assert (await http.post(LOGIN, json=right, headers=hall)).status_code == 200


async def test_a_successful_sign_in_does_not_count_against_the_hall(
    database_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> None:
    settings = _settings(database_url, tmp_path, login_ip_attempts=1)
    async with live_server(settings, limiter=limiter) as live, client(live) as http:
        users = [await http.register() for _ in range(2)]
        for user in users:
            signed = {"email": user["email"], "password": PASSWORD}
            assert (await http.post(LOGIN, json=signed)).status_code == 200
        assert await sessions(live) == 2


@pytest.fixture
async def strict_server(
    database_url: str, tmp_path: Path, limiter: MemoryRateLimiter
) -> AsyncIterator[LiveServer]:
    """Lower bars than the defaults, so that reaching them takes few password hashes."""
    settings = _settings(
        database_url, tmp_path, login_attempts=2, login_ip_attempts=4, login_account_attempts=4
    )
    async with live_server(settings, limiter=limiter) as live:
        yield live


async def test_guessing_many_accounts_from_one_address_hits_the_address_bar(
    strict_server: LiveServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    address = behind("192.0.2.50")
    async with client(strict_server) as http:
        user = await http.register()
        for n in range(4):
            spray = {"email": f"delegate{n}@example.org", "password": "Summer2005!"}
            assert (await http.post(LOGIN, json=spray, headers=address)).status_code == 401
        caplog.clear()
        right = {"email": user["email"], "password": PASSWORD}
        refused = await http.post(LOGIN, json=right, headers=address)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert refusal_codes(caplog) == {"rate_limited": 1}
        assert await sessions(strict_server) == 0
        # The address, not the account, is stopped.
        assert (await http.post(LOGIN, json=right, headers=behind("192.0.2.51"))).status_code == 200
        clock.advance(15 * 60 + 1)
        assert (await http.post(LOGIN, json=right, headers=address)).status_code == 200


async def test_guessing_one_account_from_many_addresses_hits_the_account_bar(
    strict_server: LiveServer, clock: FakeClock
) -> None:
    async with client(strict_server) as http:
        user = await http.register()
        for n in range(4):
            wrong = {"email": user["email"], "password": f"guess number {n}"}
            response = await http.post(LOGIN, json=wrong, headers=behind(f"192.0.2.{n}"))
            assert response.status_code == 401
        right = {"email": user["email"], "password": PASSWORD}
        refused = await http.post(LOGIN, json=right, headers=behind("192.0.2.99"))
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert await sessions(strict_server) == 0
        clock.advance(15 * 60 + 1)
        assert (await http.post(LOGIN, json=right, headers=behind("192.0.2.99"))).status_code == 200


async def test_unknown_email_and_wrong_password_answer_alike_and_cost_one_hash_each(
    strict_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client(strict_server) as http:
        await _answer_alike(strict_server, http, monkeypatch)


async def _answer_alike(server: LiveServer, http: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    checks: list[str | None] = []
    real_verify = Hasher.verify_async

    async def counted(hasher: Hasher, stored_hash: str | None, password: str) -> bool:
        checks.append(stored_hash)
        return await real_verify(hasher, stored_hash, password)

    monkeypatch.setattr(Hasher, "verify_async", counted)
    user = await http.register()
    users_before = await _users(server)

    wrong = await http.post(LOGIN, json={"email": user["email"], "password": "not my password"})
    assert len(checks) == 1 and checks[0] is not None
    unknown = await http.post(LOGIN, json={"email": "ghost@example.org", "password": "nope nope"})
    assert len(checks) == 2 and checks[1] is None  # the dummy hash runs instead
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"error": {"code": "invalid_credentials", "message": "Wrong email or password."}}
    )
    assert dict(wrong.headers).keys() == dict(unknown.headers).keys()

    # Past the limit (2 here) both are refused alike, before any hash.
    await http.post(LOGIN, json={"email": user["email"], "password": "again and again"})
    await http.post(LOGIN, json={"email": "ghost@example.org", "password": "again and again"})
    checked = len(checks)
    known_refused = await http.post(LOGIN, json={"email": user["email"], "password": PASSWORD})
    ghost_refused = await http.post(LOGIN, json={"email": "ghost@example.org", "password": "x"})
    assert known_refused.status_code == ghost_refused.status_code == 429
    assert known_refused.json()["error"]["code"] == ghost_refused.json()["error"]["code"]
    assert len(checks) == checked
    assert await _users(server) == users_before
    assert await sessions(server) == 0


def test_login_bars_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "FORUM_LOGIN_ATTEMPTS": "3",
            "FORUM_LOGIN_ACCOUNT_ATTEMPTS": "30",
            "FORUM_LOGIN_IP_ATTEMPTS": "300",
            "FORUM_LOGIN_WINDOW": "600",
        },
        secret_key="k" * 40,
    )
    assert (settings.login_attempts, settings.login_account_attempts) == (3, 30)
    assert (settings.login_ip_attempts, settings.login_window) == (300, 600.0)
    defaults = Settings()
    assert defaults.login_ip_attempts >= 10 * defaults.login_attempts


def _settings(database_url: str, tmp_path: Path, **changes: Any) -> Settings:
    return make_settings(database_url, tmp_path).with_(**changes)


async def _users(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)
