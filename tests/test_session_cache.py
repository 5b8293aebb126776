"""Who a session is, kept by each worker (forum/session_cache.py): ended at once on
the worker where the session ends, the password changes, the account is deactivated
or a role changes; on another worker within the trust window, and no later."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import update

from forum.db.models import User
from forum.settings import Settings
from tests.capture import WINDOW_TICK, QueryCounter
from tests.discussions_support import open_thread
from tests.factory import PASSWORD
from tests.people import set_role
from tests.support import Client, LiveServer, client, live_server, make_settings

TRUST_S = 1.5
MODERATING = "human-rights-caucus"  # its chairs moderate C3


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return make_settings(sqlite_url, tmp_path).with_(session_trust_s=TRUST_S)


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[LiveServer]:
    async with live_server(settings) as live:
        yield live


@asynccontextmanager
async def _signed_in(server: LiveServer) -> AsyncIterator[Client]:
    async with client(server) as http:
        await http.signup()
        assert (await http.get("/api/me")).status_code == 200  # kept from here
        yield http


async def test_a_kept_session_asks_nothing(worker: LiveServer, count_queries: QueryCounter) -> None:
    async with _signed_in(worker) as http:
        with count_queries(worker.state["engine"], ignore=(WINDOW_TICK,)) as queries:
            assert (await http.get("/api/me")).status_code == 200
        assert not [q for q in queries.statements if "auth_sessions" in q]


async def test_a_sign_out_ends_the_kept_session_at_once(worker: LiveServer) -> None:
    async with _signed_in(worker) as http:
        cookies = dict(http.cookies)
        assert (await http.post("/api/auth/logout")).status_code == 204
    async with client(worker, cookies=cookies) as same_browser:
        assert (await same_browser.get("/api/me")).status_code == 401


async def test_a_password_change_ends_the_other_kept_sessions_at_once(
    worker: LiveServer,
) -> None:
    async with _signed_in(worker) as first, client(worker) as second:
        assert first.user is not None
        await second.login(first.user["email"])
        assert (await second.get("/api/me")).status_code == 200
        changed = await first.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "password": "a new passphrase 2026"},
        )
        assert changed.status_code == 204, changed.text
        assert (await second.get("/api/me")).status_code == 401
        assert (await first.get("/api/me")).status_code == 200


async def test_a_deactivation_ends_the_kept_session_at_once(worker: LiveServer) -> None:
    async with _signed_in(worker) as http:
        assert http.user is not None
        async with worker.state["sessionmaker"]() as session, session.begin():
            await session.execute(
                update(User).where(User.id == http.user["id"]).values(is_active=False)
            )
        assert (await http.get("/api/me")).status_code == 401


async def test_a_role_change_shows_on_the_next_page(worker: LiveServer) -> None:
    async with _signed_in(worker) as http:
        assert http.user is not None
        thread = f"/threads/{(await open_thread(http))['thread']['id']}"
        assert "Lock thread" not in (await http.get(thread)).text  # kept from here
        await set_role(worker, MODERATING, http.user["id"], "chair")
        assert "Lock thread" in (await http.get(thread)).text


async def test_another_worker_sees_a_sign_out_within_the_window(settings: Settings) -> None:
    async with (
        live_server(settings) as here,
        live_server(settings) as there,
        _signed_in(here) as http,
    ):
        cookies = dict(http.cookies)
        async with client(there, cookies=cookies) as elsewhere:
            assert (await elsewhere.get("/api/me")).status_code == 200  # kept there
            assert (await http.post("/api/auth/logout")).status_code == 204
            # That worker was not told: it answers from memory for the window...
            assert (await elsewhere.get("/api/me")).status_code == 200
            await asyncio.sleep(TRUST_S + 0.1)
            # ...and asks the database after it.
            assert (await elsewhere.get("/api/me")).status_code == 401
