"""People on a live server, made by the factory: a `Person` holding a bearer token (for
WebSocket peers and `api` calls), or a signed-in HTTP client (`signed_in`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests import factory
from tests.factory import GROUP
from tests.support import Client, LiveServer, client


@dataclass
class Person:
    """Someone with an account, the password `factory.PASSWORD` and a bearer token.
    `user` is the person as /api/me shows them (memberships aside)."""

    user: dict[str, Any]
    token: str
    server: LiveServer

    @property
    def id(self) -> int:
        return int(self.user["id"])

    def headers(self, server: LiveServer) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": server.origin}

    def client(self) -> Client:
        """An HTTP client that sends this person's token; `Client.user` is theirs."""
        http = client(self.server, headers={"Authorization": f"Bearer {self.token}"})
        http.user = dict(self.user)
        return http


async def person(
    server: LiveServer,
    *,
    family: str = "government",
    role: str | None = None,
    group: str = GROUP,
    name: str | None = None,
    **fields: Any,
) -> Person:
    """Someone (a government delegate unless `family` says otherwise) with `role` in
    `group`; `fields` go to `factory.make_user` (country, secretariat, password...)."""
    made = await factory.make_person(
        server.state["sessionmaker"], role=role, group=group, family=family, name=name, **fields
    )
    return Person(user=made.account, token=made.token, server=server)


@asynccontextmanager
async def signed_in(
    server: LiveServer,
    *,
    family: str = "civil_society",
    country: str = "KE",
    role: str | None = None,
    group: str = GROUP,
    **fields: Any,
) -> AsyncIterator[Client]:
    """A signed-in API client of someone new (civil society unless `family` says
    otherwise): `Client.user` is the person as the API shows them."""
    who = await person(server, family=family, country=country, role=role, group=group, **fields)
    async with who.client() as http:
        yield http


async def set_role(server: LiveServer, slug: str, user_id: int, role: str) -> None:
    """Appoint someone in a group straight in the database (appointments have their
    own tests)."""
    async with server.state["sessionmaker"]() as session, session.begin():
        await factory.add_role(session, user_id, role, slug)


async def api(who: Person, method: str, path: str, body: Any = None) -> httpx.Response:
    async with who.client() as http:
        return await http.request(method, path, json=body)
