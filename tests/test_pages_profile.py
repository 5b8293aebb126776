"""The profile page over HTTP: each form refuses beside its field keeping what was
typed, a password change ends the other sessions, signing out everywhere ends them all
(browsers, API tokens and their open WebSockets), a family change waits."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from forum.db.models import FamilyRequest
from forum.ws.protocol import CLOSE_UNAUTHENTICATED
from tests.bad_input_support import table_rows
from tests.factory import PASSWORD
from tests.people import person
from tests.rooms_support import Peer, peer
from tests.secretariat_support import post_form, signed_in
from tests.support import LiveServer, client

NEW_PASSWORD = "a longer phrase of seven words"
DETAILS = {
    "display_name": "Amina Diallo",
    "organization": "ENDA Tiers Monde",
    "country": "SN",
    "language": "fr",
    "time_zone": "Africa/Dakar",
}


def beside(html: str, name: str) -> str | None:
    found = re.search(rf'<span class="field-error" id="{name}-error">([^<]*)</span>', html)
    return found[1] if found else None


async def closed(p: Peer) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            await p.next(wait=3)
    return p.ws.close_code


async def test_signed_out_the_profile_asks_to_sign_in(server: LiveServer) -> None:
    async with client(server) as nobody:
        page = await nobody.get("/profile", headers={"accept": "text/html"})
        assert page.status_code == 401
        assert (await post_form(nobody, "/profile", **DETAILS)).status_code == 403


async def test_details_refused_beside_their_field_then_saved(server: LiveServer) -> None:
    someone = await person(server, family="civil_society")
    async with signed_in(server, someone.user["email"]) as http:
        before = await table_rows(server)
        refused = await post_form(http, "/profile", **{**DETAILS, "time_zone": "Mars/Olympus"})
        assert refused.status_code == 422
        assert beside(refused.text, "time_zone") == "Unknown time zone."
        assert 'value="Amina Diallo"' in refused.text
        assert '<option value="SN" selected>' in refused.text
        hidden = await post_form(http, "/profile", **{**DETAILS, "display_name": "Ad\u00admin"})
        assert hidden.status_code == 422 and beside(hidden.text, "display_name")
        assert await table_rows(server) == before
        saved = await post_form(http, "/profile", **DETAILS)
        assert saved.status_code == 303
        me = (await http.get("/api/me")).json()
        assert (me["display_name"], me["country"], me["region"]) == ("Amina Diallo", "SN", "africa")
        page = await http.get("/profile?done=details")
        # The profile's language and zone win over the browser's.
        assert '<html lang="fr" dir="ltr" data-time-zone="Africa/Dakar">' in page.text
        assert "Votre profil" in page.text
        followed = await post_form(http, "/profile", **{**DETAILS, "language": "", "time_zone": ""})
        assert followed.status_code == 303
        page = await http.get("/profile", headers={"accept-language": "es"})
        assert '<html lang="es" dir="ltr">' in page.text


async def test_a_password_change_needs_the_current_one_and_ends_the_other_sessions(
    server: LiveServer,
) -> None:
    someone = await person(server, family="government", role="member")
    email = someone.user["email"]
    async with signed_in(server, email) as http, peer(server, someone) as socket:
        assert (await socket.join("remote"))["type"] == "joined"
        before = await table_rows(server)
        wrong = await post_form(
            http, "/profile/password", current_password="not it", password=NEW_PASSWORD
        )
        assert wrong.status_code == 422
        assert beside(wrong.text, "current_password") == "The current password is wrong."
        weak = await post_form(
            http, "/profile/password", current_password=PASSWORD, password="password123"
        )
        assert weak.status_code == 422
        assert beside(weak.text, "password") == "This password is too common or too simple."
        assert await table_rows(server) == before
        changed = await post_form(
            http, "/profile/password", current_password=PASSWORD, password=NEW_PASSWORD
        )
        assert changed.status_code == 303
        # This browser stays signed in; the API token and its socket are ended.
        assert (await http.get("/api/me")).status_code == 200
        assert await closed(socket) == CLOSE_UNAUTHENTICATED
        token = httpx.Headers({"authorization": f"Bearer {someone.token}"})
        async with client(server, headers=token) as api_client:
            assert (await api_client.get("/api/me")).status_code == 401
    async with client(server) as fresh:
        old = await fresh.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert old.status_code == 401
        new = await fresh.post("/api/auth/login", json={"email": email, "password": NEW_PASSWORD})
        assert new.status_code == 200


async def test_signing_out_everywhere_ends_every_session(server: LiveServer) -> None:
    someone = await person(server, family="government", role="member")
    email = someone.user["email"]
    async with (
        signed_in(server, email) as here,
        signed_in(server, email) as elsewhere,
        peer(server, someone) as socket,
    ):
        assert (await socket.join("remote"))["type"] == "joined"
        out = await post_form(here, "/profile/sign-out-everywhere")
        assert out.status_code == 303 and out.headers["location"] == "/login?next=/profile"
        assert await closed(socket) == CLOSE_UNAUTHENTICATED
        for browser in (here, elsewhere):
            assert (await browser.get("/api/me")).status_code == 401
        token = httpx.Headers({"authorization": f"Bearer {someone.token}"})
        async with client(server, headers=token) as api_client:
            assert (await api_client.get("/api/me")).status_code == 401


async def test_a_family_change_is_a_request_replaced_not_doubled(server: LiveServer) -> None:
    someone = await person(server, family="civil_society")
    async with signed_in(server, someone.user["email"]) as http:
        same = await post_form(http, "/profile/family", family="civil_society")
        assert same.status_code == 422
        assert beside(same.text, "family") == "This is your stakeholder family already."
        for family in ("government", "private_sector"):
            asked = await post_form(http, "/profile/family", family=family)
            assert asked.status_code == 303
        page = await http.get("/profile")
        assert "Pending: you asked to be counted in the family Private sector" in page.text
        assert (await http.get("/api/me")).json()["family"] == "civil_society"
        async with server.state["sessionmaker"]() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(FamilyRequest)
                .where(FamilyRequest.user_id == someone.id)
            )
        assert count == 1
        withdrawn = await post_form(http, "/profile/family/withdraw")
        assert withdrawn.status_code == 303
        assert "Pending:" not in (await http.get("/profile")).text
        again = await post_form(http, "/profile/family/withdraw")
        assert again.status_code == 404
