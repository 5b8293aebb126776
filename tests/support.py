"""What tests share: a real uvicorn server on a free port, an HTTP client that signs in
and sends the CSRF token like a browser's script would, the settings of a test server
(`make_settings`) and a clock tests move by hand."""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from forum.app import create_app
from forum.limits import RateLimiter
from forum.settings import Settings
from forum.state import AppState
from forum.web.route_index import RouteIndex
from tests.factory import CHEAP_HASHING, PASSWORD

CHEAP_HASHING_ENV = {f"FORUM_{name.upper()}": str(value) for name, value in CHEAP_HASHING.items()}
_emails = itertools.count(1)


def production_hashing(settings: Settings) -> Settings:
    """`settings` with argon2id at the library's recommended cost, that of production."""
    defaults = Settings()
    return settings.with_(
        password_time_cost=defaults.password_time_cost,
        password_memory_cost=defaults.password_memory_cost,
        password_parallelism=defaults.password_parallelism,
    )


async def until_served(url: str, *, tries: int = 300) -> None:
    """Wait for a server started in another process to answer `/healthz` with 200."""
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(tries):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the server did not start")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    ws_url: str
    app: Starlette
    server: uvicorn.Server

    @property
    def state(self) -> AppState:
        return cast(AppState, self.server.lifespan.state)

    @property
    def origin(self) -> str:
        return self.url


@asynccontextmanager
async def live_server(
    settings: Settings,
    *,
    limiter: RateLimiter | None = None,
    send_buffer: int | None = None,
    port: int = 0,
    ws_options: dict[str, Any] | None = None,
) -> AsyncIterator[LiveServer]:
    """uvicorn serving the app on 127.0.0.1 in this event loop, with the same WebSocket
    settings as run.py.

    `send_buffer` fixes the kernel's send buffer of every accepted socket (a slow link):
    left to itself Linux grows it to megabytes before a reader that stalls blocks the
    server's writes.

    `port` (a free one by default) lets a test stop a server and start another on the
    same address and database, as a restart does: clients reconnect to the same URL.

    `ws_options` change uvicorn's WebSocket options (another implementation, say).
    """
    app = create_app(settings, limiter=limiter)
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket says it is TCP, and without it every response waits ~40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", port))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        # As run.py: open streams (a browser's live page) must not hold the shutdown.
        timeout_graceful_shutdown=2,
        **{**settings.uvicorn_ws_options(), **(ws_options or {})},
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            if task.done():
                task.result()
            raise RuntimeError("the test server did not start")
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", app, server)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


class Client(httpx.AsyncClient):
    """A browser-like client: keeps cookies, and sends X-CSRF-Token once signed in."""

    csrf: str | None = None
    user: dict[str, Any] | None = None

    async def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        if self.csrf and method.upper() not in {"GET", "HEAD", "OPTIONS"}:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRF-Token", self.csrf)
            kwargs["headers"] = headers
        return await super().request(method, url, **kwargs)

    async def register(self, **fields: Any) -> dict[str, Any]:
        body = registration(**fields)
        response = await self.post("/api/accounts", json=body)
        assert response.status_code == 201, response.text
        self.user = {**response.json(), "password": body["password"]}
        return self.user

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]
        return cast(dict[str, Any], response.json()["user"])

    async def signup(self, **fields: Any) -> dict[str, Any]:
        """Register and sign in; returns the account as /api/me shows it."""
        user = await self.register(**fields)
        return await self.login(user["email"], user["password"])


def token_in(html: str) -> str:
    """The CSRF field of a page's form, as a browser would send it back."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def registration(**fields: Any) -> dict[str, Any]:
    n = next(_emails)
    body = {
        "email": f"person{n}@example.org",
        "password": PASSWORD,
        "display_name": f"Person {n}",
        "family": "civil_society",
        "organization": "Association for Progressive Communications",
        "country": "KE",
    }
    body.update(fields)
    return body


def client(server: LiveServer, **kwargs: Any) -> Client:
    return Client(base_url=server.url, timeout=10, **kwargs)


async def make_secretariat(server: LiveServer, user_id: int) -> None:
    """The secretariat is appointed by an operator, not through the API."""
    from sqlalchemy import update

    from forum.db.models import User

    async with server.state["sessionmaker"]() as session, session.begin():
        await session.execute(update(User).where(User.id == user_id).values(is_secretariat=True))


def served_routes(server: LiveServer) -> list[BaseRoute]:
    """Every route the server's app serves, looked into its route index."""
    return [
        route
        for entry in server.app.routes
        for route in (entry.routes if isinstance(entry, RouteIndex) else [entry])
    ]


class FakeClock:
    """A clock tests move by hand, for rate-limit windows."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class WallClock:
    """A date and time tests set by hand, for access windows (`forum.actions.admission`)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def make_settings(url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=url,
        secret_key="test-secret-key-" + "x" * 32,
        data_dir=tmp_path,
        seed=True,
    ).with_(**CHEAP_HASHING)
