"""What a newcomer meets first, through the real server: the groups page's headings,
sign-in that returns where one was."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from forum.db.models import User
from forum.passwords import MIN_LENGTH
from tests.factory import PASSWORD
from tests.support import LiveServer, client, token_in


async def test_group_headings_are_the_catalogs_plurals(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        english = (await http.get("/groups")).text
        french = (await http.get("/groups", headers={"Accept-Language": "fr"})).text
    headings = re.findall(r"<h2>([^<]+)</h2>", english)
    assert "Caucuses" in headings and "Plenaries" in headings
    assert not any(h.endswith(("ss", "ys")) for h in headings), headings
    french_headings = re.findall(r"<h2>([^<]+)</h2>", french)
    assert "Caucuses" not in french_headings and "Plenaries" not in french_headings


async def test_sign_in_returns_to_the_page_one_was_on(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        user = await http.register()
        page = (await http.get("/groups?x=1")).text
        link = re.search(r'href="(/login\?next=[^"]+)"', page)
        assert link, "the sign-in link carries no next"
        form = (await http.get(link.group(1).replace("&amp;", "&"))).text
        assert 'name="next" value="/groups?x=1"' in form
        answer = await http.post(
            "/login",
            data={
                "csrf_token": token_in(form),
                "email": user["email"],
                "password": PASSWORD,
                "next": "/groups?x=1",
            },
        )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/groups?x=1"


async def test_a_next_to_another_site_lands_home(sqlite_server: LiveServer) -> None:
    attempts = [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "groups",
    ]
    async with client(sqlite_server) as http:
        user = await http.register()
        for attempt in attempts:
            form = (await http.get("/login", params={"next": attempt})).text
            assert 'name="next" value="/"' in form, attempt
            answer = await http.post(
                "/login",
                data={
                    "csrf_token": token_in(form),
                    "email": user["email"],
                    "password": PASSWORD,
                    "next": attempt,
                },
            )
            assert answer.status_code == 303, attempt
            assert answer.headers["location"] == "/", attempt


def _selected(html: str, select: str) -> list[str]:
    block = re.search(rf'<select name="{select}"[^>]*>(.*?)</select>', html, re.S)
    assert block, select
    return re.findall(r'<option value="([^"]*)"\s*selected', block.group(1))


async def test_registration_preselects_nothing_and_states_the_password_rules(
    sqlite_server: LiveServer,
) -> None:
    async with client(sqlite_server) as http:
        form = (await http.get("/register")).text
    assert _selected(form, "family") == [""]
    assert _selected(form, "country") == [""]
    hint = re.search(r'<span class="hint" id="password-hint">([^<]+)</span>', form)
    assert hint and f"At least {MIN_LENGTH} characters" in hint.group(1)
    assert "email before the @" in hint.group(1) and "display name" in hint.group(1)
    assert re.search(r'name="password"[^>]*aria-describedby="password-hint"', form)


async def test_a_family_left_unchosen_is_refused_beside_the_field(
    sqlite_server: LiveServer,
) -> None:
    async with client(sqlite_server) as http:
        form = (await http.get("/register")).text
        async with sqlite_server.state["sessionmaker"]() as session:
            before = await session.scalar(select(func.count()).select_from(User))
        answer = await http.post(
            "/register",
            data={
                "csrf_token": token_in(form),
                "email": "newcomer@example.org",
                "password": PASSWORD,
                "display_name": "New Comer",
                "family": "",
                "organization": "Somewhere",
                "country": "SN",
            },
        )
        async with sqlite_server.state["sessionmaker"]() as session:
            after = await session.scalar(select(func.count()).select_from(User))
    assert answer.status_code == 422
    assert after == before
    beside = re.search(r'<span class="field-error" id="family-error">([^<]+)</span>', answer.text)
    assert beside and beside.group(1) == "Choose your stakeholder family."
    assert re.search(r'<select name="family"[^>]*aria-invalid="true"', answer.text)
    # What was typed stays; the country chosen stays chosen.
    assert 'value="New Comer"' in answer.text
    assert _selected(answer.text, "country") == ["SN"]
