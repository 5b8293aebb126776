"""Credentials: what a token is made of, which signatures and headers are read, and
which credential decides when a request carries two."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from websockets.asyncio.client import connect

from forum.auth import BEARER_PREFIX, SESSION_COOKIE, bearer_token, sign, unsign
from tests.factory import PASSWORD
from tests.support import Client, LiveServer, client

SECRET = "a site key long enough for a test, not for production"


async def _bearer(http: Client, email: str) -> str:
    response = await http.post("/api/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def test_every_token_is_256_random_bits(http: Client) -> None:
    user = await http.signup()
    cookie = http.cookies[SESSION_COOKIE]
    session_token = cookie.rsplit(".", 1)[0]
    api_token = (await _bearer(http, user["email"])).removeprefix(BEARER_PREFIX)
    for token in (session_token, api_token):
        # 43 URL-safe base64 characters carry 32 bytes, and no more.
        assert len(token) == 43
        assert len(base64.urlsafe_b64decode(token + "=")) == 32


def test_a_signature_made_for_one_purpose_is_refused_for_another() -> None:
    signed = sign(SECRET, "calendar", "key")
    assert unsign(SECRET, "calendar", signed) == "key"
    # A calendar feed's address is shared with calendar programs: its token must never
    # pass for a session cookie, whatever the value it carries.
    assert unsign(SECRET, "session", signed) is None
    assert unsign("another site key", "calendar", signed) is None


def test_signed_values_are_read_up_to_512_characters() -> None:
    def signed_of_length(length: int) -> str:
        probe = sign(SECRET, "session", "")
        return sign(SECRET, "session", "v" * (length - len(probe)))

    at_limit, over = signed_of_length(512), signed_of_length(513)
    assert (len(at_limit), len(over)) == (512, 513)
    assert unsign(SECRET, "session", at_limit) == "v" * (512 - len(sign(SECRET, "session", "")))
    assert unsign(SECRET, "session", over) is None


def test_bearer_tokens_are_read_up_to_200_characters() -> None:
    at_limit = BEARER_PREFIX + "t" * (200 - len(BEARER_PREFIX))
    assert bearer_token(f"Bearer {at_limit}") == at_limit
    assert bearer_token(f"bearer {at_limit}") == at_limit
    assert bearer_token(f"Bearer {at_limit}t") is None
    assert bearer_token("Bearer someone-elses-token") is None
    assert bearer_token(f"Basic {at_limit}") is None


@pytest.mark.parametrize(
    "authorization",
    ["Bearer another-services-token", "Basic dXNlcjpwYXNz", f"Bearer {BEARER_PREFIX}{'t' * 195}"],
)
async def test_an_authorization_header_that_is_not_ours_leaves_the_cookie_in_charge(
    http: Client, authorization: str
) -> None:
    """A proxy or a browser extension may add its own Authorization header: a header
    that names no Agora token is not a credential, and the session cookie decides."""
    await http.signup()
    response = await http.get("/api/me", headers={"authorization": authorization})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "token", [f"{BEARER_PREFIX}unknown", f"{BEARER_PREFIX}unknown trailing", "{known} trailing"]
)
async def test_an_agora_bearer_token_decides_even_beside_a_cookie(http: Client, token: str) -> None:
    """A bearer token wins: one the server does not know is refused, and the session
    cookie sent with it does not stand in for it."""
    user = await http.signup()
    token = token.format(known=await _bearer(http, user["email"]))
    response = await http.get("/api/me", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text


async def test_a_bearer_token_is_not_a_session_cookie(server: LiveServer, http: Client) -> None:
    """Scripts' tokens and browsers' sessions are told apart by kind, even when the
    cookie's signature is good: a browser session needs CSRF tokens, a script's not."""
    user = await http.register()
    token = await _bearer(http, user["email"])
    settings = server.state["settings"]
    async with client(server) as script, client(server) as browser:
        bearer = await script.get("/api/me", headers={"authorization": f"Bearer {token}"})
        assert bearer.status_code == 200
        browser.cookies.set(SESSION_COOKIE, sign(settings.secret_key, "session", token))
        response = await browser.get("/api/me")
        assert response.status_code == 401, response.text


async def test_a_browser_signs_in_to_the_websocket_with_its_session_cookie(
    server: LiveServer, http: Client
) -> None:
    """A page's script cannot set headers on a WebSocket: the browser sends its cookies,
    among others of the site's, and they sign it in."""
    user = await http.signup()
    cookie = f"theme=dark; {SESSION_COOKIE}={http.cookies[SESSION_COOKIE]}; lang=en"
    headers = {"Origin": server.origin, "Cookie": cookie}
    async with connect(server.ws_url + "/ws", additional_headers=headers) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert hello["type"] == "hello" and hello["user"]["id"] == user["id"]
