"""CSRF: the token is bound to the session, and browsers' writes from another site are
refused by Origin and Sec-Fetch-Site (RELIABILITY row 5), on SQLite and PostgreSQL.

"Planted" cookies are what a sibling subdomain, another port or a plain-HTTP hop can do:
set `forum_csrf` for the forum's host to a value of their choosing.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import func, select

from forum.auth import CSRF_COOKIE, SESSION_COOKIE
from forum.db.models import AuthSession, User
from tests.capture import EventCapture
from tests.discussions_support import line_id, open_thread, snapshot
from tests.people import signed_in
from tests.support import (
    Client,
    LiveServer,
    client,
    live_server,
    make_settings,
    registration,
    token_in,
)

PLANTED = "planted-by-another-site-" + "x" * 20


async def users(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def sessions(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(AuthSession)) or 0)


def csrf_code(response: httpx.Response) -> str:
    assert response.status_code == 403, response.text
    return str(response.json()["error"]["code"])


async def test_a_form_needs_this_sessions_token(
    server: LiveServer, http: Client, capture_events: EventCapture
) -> None:
    """No token, a wrong one, another session's, or one planted in the cookie: 403, and
    no row, no event."""
    await http.signup()
    created = await open_thread(http)
    thread_id = created["thread"]["id"]
    c3 = await line_id(server, "C3")
    own = token_in((await http.get(f"/threads/{thread_id}")).text)
    async with client(server) as other:
        await other.signup()
        others = token_in((await other.get(f"/threads/{thread_id}")).text)
    assert others != own
    http.cookies.set(CSRF_COOKIE, PLANTED)
    attempts: list[tuple[str, dict[str, str]]] = [
        ("no token", {}),
        ("wrong", {"csrf_token": "x" * 64}),
        ("another session's", {"csrf_token": others}),
        ("planted", {"csrf_token": PLANTED}),
    ]
    for what, token in attempts:
        before = await snapshot(server)
        async with capture_events(server, expected=0, threads=(thread_id,), lines=(c3,)):
            response = await http.post(f"/threads/{thread_id}", data={"body": "Hi", **token})
        assert csrf_code(response) == "csrf_failed", what
        assert await snapshot(server) == before, what
    # The planted cookie does not stand in for the session either on the JSON API.
    http.csrf = None
    before = await snapshot(server)
    response = await http.post(
        f"/api/threads/{thread_id}/posts", json={"body": "Hi"}, headers={"X-CSRF-Token": PLANTED}
    )
    assert csrf_code(response) == "csrf_failed"
    assert await snapshot(server) == before
    # The session's own token still goes through, planted cookie or not.
    ok = await http.post(f"/threads/{thread_id}", data={"body": "Hi", "csrf_token": own})
    assert ok.status_code == 303


async def test_signed_out_forms_need_a_signed_pre_session_token(server: LiveServer) -> None:
    form = registration()
    async with client(server) as browser:
        browser.cookies.set(CSRF_COOKIE, PLANTED)
        before = await users(server)
        planted = await browser.post("/register", data={**form, "csrf_token": PLANTED})
        assert csrf_code(planted) == "csrf_failed"
        login = {"email": form["email"], "password": form["password"], "csrf_token": PLANTED}
        assert csrf_code(await browser.post("/login", data=login)) == "csrf_failed"
        assert await users(server) == before
    async with client(server) as browser:
        page = await browser.get("/register")
        presession = token_in(page.text)
        # The cookie holds a nonce, the form its HMAC under the site key: neither is the other.
        assert browser.cookies[CSRF_COOKIE] != presession
        ok = await browser.post("/register", data={**form, "csrf_token": presession})
        assert ok.status_code == 303 and await users(server) == before + 1
        # Signed in, the token is the session's: the pre-session one no longer passes.
        assert CSRF_COOKIE not in browser.cookies
        home = await browser.get("/")
        assert token_in(home.text) != presession
        assert csrf_code(await browser.post("/logout", data={"csrf_token": presession}))
        out = await browser.post("/logout", data={"csrf_token": token_in(home.text)})
        assert out.status_code == 303


async def test_the_token_rotates_with_the_session_at_sign_in(
    server: LiveServer, http: Client
) -> None:
    me = await http.signup()
    first_token, first_cookie = http.csrf, http.cookies[SESSION_COOKIE]
    await http.login(me["email"])
    assert http.csrf != first_token and http.cookies[SESSION_COOKIE] != first_cookie
    old = await http.post(
        "/api/groups/africa-caucus/join", json={}, headers={"X-CSRF-Token": str(first_token)}
    )
    assert csrf_code(old) == "csrf_failed"
    assert (await http.post("/api/groups/africa-caucus/join", json={})).status_code == 201


def cross_site(server: LiveServer) -> list[tuple[str, dict[str, str]]]:
    host = server.origin.removeprefix("http://")
    port = int(host.rsplit(":", 1)[1])
    return [
        ("another site", {"Origin": "https://evil.example"}),
        ("a look-alike", {"Origin": f"http://{host}.evil.example"}),
        ("an opaque origin", {"Origin": "null"}),
        ("another scheme", {"Origin": f"https://{host}"}),
        ("another port", {"Origin": f"http://127.0.0.1:{port + 1}"}),
        ("Sec-Fetch-Site", {"Sec-Fetch-Site": "cross-site"}),
    ]


async def test_cookie_writes_from_another_site_are_refused(
    server: LiveServer, http: Client
) -> None:
    await http.signup()
    created = await open_thread(http)
    thread_id = created["thread"]["id"]
    form_token = token_in((await http.get(f"/threads/{thread_id}")).text)
    for what, headers in cross_site(server):
        before = await snapshot(server)
        json_write = await http.post(
            f"/api/threads/{thread_id}/posts", json={"body": "Hi"}, headers=headers
        )
        assert csrf_code(json_write) == "csrf_failed", what
        form_write = await http.post(
            f"/threads/{thread_id}",
            data={"body": "Hi", "csrf_token": form_token},
            headers=headers,
        )
        assert csrf_code(form_write) == "csrf_failed", what
        assert await snapshot(server) == before, what
    # Signed-out writes of a browser too: registration and sign-in.
    async with client(server) as stranger:
        before_users, before_sessions = await users(server), await sessions(server)
        for _, headers in cross_site(server):
            body = registration()
            registered = await stranger.post("/api/accounts", json=body, headers=headers)
            assert csrf_code(registered) == "csrf_failed"
            signed_in = await stranger.post(
                "/api/auth/login", json={"email": body["email"], "password": "x"}, headers=headers
            )
            assert csrf_code(signed_in) == "csrf_failed"
        assert (await users(server), await sessions(server)) == (before_users, before_sessions)
    # The forum's own origin, as a browser sends it, passes.
    same = {"Origin": server.origin, "Sec-Fetch-Site": "same-origin"}
    posted = await http.post(f"/api/threads/{thread_id}/posts", json={"body": "Hi"}, headers=same)
    assert posted.status_code == 201


async def test_allowed_origins_pass(database_url: str, tmp_path: Any) -> None:
    settings = make_settings(database_url, tmp_path).with_(
        allowed_origins=("https://agora.example",)
    )
    async with live_server(settings) as server, client(server) as http:
        await http.signup()
        created = await open_thread(http)
        # A proxy serves the forum under its own name: the browser calls that cross-site.
        headers = {"Origin": "https://agora.example", "Sec-Fetch-Site": "cross-site"}
        posted = await http.post(
            f"/api/threads/{created['thread']['id']}/posts", json={"body": "Hi"}, headers=headers
        )
        assert posted.status_code == 201
        evil = {"Origin": "https://evil.example"}
        refused = await http.post(
            f"/api/threads/{created['thread']['id']}/posts", json={"body": "Hi"}, headers=evil
        )
        assert csrf_code(refused) == "csrf_failed"


async def test_bearer_clients_are_not_subject_to_csrf(server: LiveServer) -> None:
    """A bearer token is sent by a program, never attached by a browser on its own."""
    async with signed_in(server) as api:
        created = await open_thread(api)
        posted = await api.post(
            f"/api/threads/{created['thread']['id']}/posts",
            json={"body": "From a script"},
            headers={"Origin": "https://tool.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert posted.status_code == 201


async def test_a_bearer_reader_gets_no_csrf_token_and_their_forms_go_through(
    server: LiveServer,
) -> None:
    """No browser sends a bearer token by itself: its pages carry no CSRF token and set
    no cookie for one, and its form posts need none; a browser's form still does."""
    async with signed_in(server) as api:
        created = await open_thread(api)
        thread_id = created["thread"]["id"]
        page = await api.get(f"/threads/{thread_id}")
        assert page.status_code == 200
        assert 'name="csrf_token" value=""' in page.text
        assert re.search(r'name="csrf_token" value="[^"]', page.text) is None
        assert CSRF_COOKIE not in page.cookies and CSRF_COOKIE not in api.cookies
        # Another site's page cannot make a browser send the header, whatever it says.
        posted = await api.post(
            f"/threads/{thread_id}",
            data={"body": "From a script's form"},
            headers={"Origin": "https://tool.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert posted.status_code == 303, posted.text
        shown = await api.get(f"/api/threads/{thread_id}")
        assert [p["body"] for p in shown.json()["posts"]][-1] == "From a script's form"
    async with client(server) as browser:
        await browser.signup()
        page = await browser.get(f"/threads/{thread_id}")
        own = token_in(page.text)
        refused = await browser.post(f"/threads/{thread_id}", data={"body": "Hi"})
        assert csrf_code(refused) == "csrf_failed"
        ok = await browser.post(f"/threads/{thread_id}", data={"body": "Hi", "csrf_token": own})
        assert ok.status_code == 303
