"""What the profile and secretariat tests share: the secretariat account made as
`run.py create-secretariat` makes it, and forms posted as a browser posts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from forum.actions.accounts import check_register
from forum.actions.secretariat import do_create_secretariat
from tests.factory import PASSWORD
from tests.support import Client, LiveServer, client

SECRETARIAT_EMAIL = "secretariat@itu.example"


async def create_secretariat(server: LiveServer, email: str = SECRETARIAT_EMAIL) -> str:
    """The account `run.py create-secretariat EMAIL` makes (forum/admin_cli.py): the
    same check and action, against the server's database."""
    registration = check_register(
        email=email,
        password=PASSWORD,
        display_name="WSIS Executive Secretariat",
        family="international_org",
        organization="ITU",
        country="CH",
    )
    async with server.state["sessionmaker"]() as session:
        await do_create_secretariat(session, registration)
    return email


@asynccontextmanager
async def signed_in(
    server: LiveServer, email: str, password: str = PASSWORD
) -> AsyncIterator[Client]:
    """A browser-like client signed in with a cookie."""
    async with client(server) as http:
        await http.login(email, password)
        yield http


async def post_form(http: Client, path: str, **fields: Any) -> httpx.Response:
    """A form posted with the session's CSRF field, as the page's form sends it."""
    data = {"csrf_token": http.csrf or "", **fields}
    return await http.post(path, data=data, headers={"accept": "text/html"})
