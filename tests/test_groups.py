"""Groups over HTTP: listing, joining, leaving, the secretariat and chairs managing
members, paragraph 27a, and CSRF — on SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from forum.broker import user_channel
from forum.db.models import Group, Membership
from tests.bad_input_support import http_routes, make_forum, send, table_rows
from tests.capture import Events
from tests.factory import GROUP
from tests.support import Client, LiveServer, client, make_secretariat, token_in


async def memberships(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(Membership)) or 0)


async def test_groups_are_listed_and_filtered(http: Client) -> None:
    everything = (await http.get("/api/groups")).json()["groups"]
    kinds = {g["kind"] for g in everything}
    assert kinds == {"working_group", "caucus", "bureau", "plenary", "team"}
    caucuses = (await http.get("/api/groups", params={"kind": "caucus"})).json()["groups"]
    assert len([c for c in caucuses if c["region"]]) == 7
    assert len([c for c in caucuses if not c["region"]]) == 22
    bureaus = (await http.get("/api/groups", params={"kind": "bureau"})).json()["groups"]
    assert {b["family"] for b in bureaus} == {"government", "civil_society", "private_sector"}
    following = (await http.get("/api/groups", params={"action_line": "C2"})).json()["groups"]
    assert any(g["kind"] == "working_group" for g in following)
    bad = await http.get("/api/groups", params={"kind": "club"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "kind"
    missing = await http.get("/api/groups/no-such-group")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_join_a_caucus_and_leave_it(server: LiveServer, http: Client) -> None:
    me = await http.signup(family="civil_society", country="BR")
    seen = Events()
    await server.state["broker"].subscribe(user_channel(me["id"]), seen)

    joined = await http.post("/api/groups/latin-america-caribbean-caucus/join", json={})
    assert joined.status_code == 201 and joined.json()["role"] == "member"
    detail = (await http.get("/api/groups/latin-america-caribbean-caucus")).json()
    assert [m["user"]["id"] for m in detail["members"]] == [me["id"]]
    assert "email" not in detail["members"][0]["user"]
    assert (await http.get("/api/me")).json()["memberships"][0]["role"] == "member"

    again = await http.post("/api/groups/latin-america-caribbean-caucus/join", json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_member"

    assert (await http.post("/api/groups/latin-america-caribbean-caucus/leave")).status_code == 204
    assert await memberships(server) == 0
    assert [m["role"] for m in seen.events] == ["member", None]
    not_member = await http.post("/api/groups/latin-america-caribbean-caucus/leave")
    assert not_member.status_code == 404


async def test_another_familys_group_is_joined_as_observer(http: Client) -> None:
    await http.signup(family="civil_society")
    joined = await http.post("/api/groups/wgig/join", json={})
    assert joined.json()["role"] == "observer"


async def test_outsider_cannot_claim_membership_and_appointed_groups_refuse_self_join(
    server: LiveServer, http: Client
) -> None:
    await http.signup(family="civil_society")
    claim = await http.post("/api/groups/wgig/join", json={"role": "member"})
    assert claim.status_code == 403
    appointed = await http.post("/api/groups/cs-bureau/join", json={})
    assert appointed.status_code == 403
    chair = await http.post("/api/groups/africa-caucus/join", json={"role": "chair"})
    assert chair.status_code == 422
    assert await memberships(server) == 0


async def test_signed_out_visitors_cannot_join(server: LiveServer, http: Client) -> None:
    response = await http.post("/api/groups/africa-caucus/join", json={})
    assert response.status_code == 401
    assert await memberships(server) == 0


async def test_secretariat_manages_memberships_and_chairs_manage_their_group(
    server: LiveServer,
) -> None:
    async with client(server) as sec, client(server) as chair, client(server) as member:
        secretariat = await sec.signup(family="international_org")
        await make_secretariat(server, secretariat["id"])
        chair_user = await chair.signup()
        member_user = await member.signup()

        appoint = await sec.put(
            f"/api/groups/gender-caucus/members/{chair_user['id']}", json={"role": "chair"}
        )
        assert appoint.status_code == 200, appoint.text
        # The chair appoints a coordinator, but cannot make another chair.
        ok = await chair.put(
            f"/api/groups/gender-caucus/members/{member_user['id']}", json={"role": "coordinator"}
        )
        assert ok.status_code == 200 and ok.json()["role"] == "coordinator"
        refused = await chair.put(
            f"/api/groups/gender-caucus/members/{member_user['id']}", json={"role": "chair"}
        )
        assert refused.status_code == 403
        # A member cannot manage anyone.
        demote = await member.put(
            f"/api/groups/gender-caucus/members/{chair_user['id']}", json={"role": "member"}
        )
        assert demote.status_code == 403
        bad_role = await sec.put(
            f"/api/groups/gender-caucus/members/{member_user['id']}", json={"role": "king"}
        )
        assert bad_role.status_code == 422
        nobody = await sec.put("/api/groups/gender-caucus/members/999999", json={"role": "member"})
        assert nobody.status_code == 404
        removed = await chair.delete(f"/api/groups/gender-caucus/members/{member_user['id']}")
        assert removed.status_code == 204
        roles = {
            m["user"]["id"]: m["role"]
            for m in (await sec.get("/api/groups/gender-caucus")).json()["members"]
        }
        assert roles == {chair_user["id"]: "chair"}


async def test_paragraph_27a_bureaus_never_outnumber_the_governmental_bureau(
    server: LiveServer,
) -> None:
    async with client(server) as sec:
        secretariat = await sec.signup(family="international_org")
        await make_secretariat(server, secretariat["id"])
        people = []
        for family in [
            "government",
            "government",
            "civil_society",
            "civil_society",
            "civil_society",
            "private_sector",
        ]:
            async with client(server) as c:
                people.append(await c.register(family=family))
        gov1, gov2, cs1, cs2, cs3, biz1 = (p["id"] for p in people)

        async def appoint(slug: str, user_id: int, role: str = "member") -> int:
            response = await sec.put(f"/api/groups/{slug}/members/{user_id}", json={"role": role})
            return response.status_code

        assert await appoint("government-bureau", gov1) == 200
        assert await appoint("cs-bureau", cs1) == 200
        before = await memberships(server)
        over = await sec.put(f"/api/groups/cs-bureau/members/{cs2}", json={"role": "member"})
        assert over.status_code == 409
        assert over.json()["error"]["code"] == "bureau_limit"
        assert "governmental bureau" in over.json()["error"]["message"]
        assert await memberships(server) == before
        # An observer seat is not a member seat.
        assert await appoint("cs-bureau", cs3, "observer") == 200
        assert await appoint("government-bureau", gov2) == 200
        assert await appoint("cs-bureau", cs2) == 200
        assert await appoint("business-bureau", biz1) == 200
        # Shrinking the governmental bureau below the others is refused too.
        shrink = await sec.delete(f"/api/groups/government-bureau/members/{gov2}")
        assert shrink.status_code == 409
        # Turning an observer into a member counts.
        assert await appoint("cs-bureau", cs3, "member") == 409


async def test_cookie_writes_need_this_sessions_csrf_token(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="forum.security")
    async with client(server) as alice, client(server) as bob:
        await alice.signup()
        await bob.signup()
        for token in (None, "wrong", bob.csrf):
            headers = {"X-CSRF-Token": token} if token else {}
            alice_csrf, alice.csrf = alice.csrf, None
            response = await alice.post("/api/groups/africa-caucus/join", json={}, headers=headers)
            alice.csrf = alice_csrf
            assert response.status_code == 403, token
            assert response.json()["error"]["code"] == "csrf_failed"
        assert await memberships(server) == 0
        assert (await alice.post("/api/groups/africa-caucus/join", json={})).status_code == 201
    refusals = [r for r in caplog.records if getattr(r, "code", None) == "csrf_failed"]
    assert len(refusals) == 3
    assert "ip='127.0.0.1'" in refusals[0].getMessage()
    assert "path='/api/groups/africa-caucus/join'" in refusals[0].getMessage()


async def test_html_forms_need_the_csrf_field(server: LiveServer) -> None:
    async with client(server) as browser:
        page = await browser.get("/register")
        assert page.status_code == 200 and 'name="csrf_token"' in page.text
        token = token_in(page.text)
        form = {
            "email": "form@example.org",
            "password": "correct horse battery",
            "display_name": "Form User",
            "family": "government",
            "organization": "Ministry",
            "country": "FR",
        }
        missing = await browser.post("/register", data=form)
        assert missing.status_code == 403
        wrong = await browser.post("/register", data={**form, "csrf_token": "x" * 43})
        assert wrong.status_code == 403
        ok = await browser.post("/register", data={**form, "csrf_token": token})
        assert ok.status_code == 303
        home = await browser.get("/")
        assert "Form User" in home.text
        out_missing = await browser.post("/logout", data={})
        assert out_missing.status_code == 403
        # Signed in, the token is the new session's: the one of the sign-up form is gone.
        assert (await browser.post("/logout", data={"csrf_token": token})).status_code == 403
        out = await browser.post("/logout", data={"csrf_token": token_in(home.text)})
        assert out.status_code == 303
        assert "Form User" not in (await browser.get("/")).text


async def test_get_routes_change_nothing(server: LiveServer, http: Client) -> None:
    """Every GET route, its path filled with real ids and slugs (and with a group whose
    room nobody has used), signed in and signed out: no row is added, removed or
    changed."""
    forum = await make_forum(server, http)
    async with server.state["sessionmaker"]() as session:
        other = await session.scalar(select(Group.slug).where(Group.slug != GROUP).limit(1))
    assert other is not None
    before = await table_rows(server)
    found: set[int] = set()
    with_parameters = 0
    async with client(server) as anonymous:
        for method, template in http_routes(server):
            if method != "GET":
                continue
            with_parameters += "{" in template
            for slug in (GROUP, other) if "{slug}" in template else (GROUP,):
                url = forum.path(template, slug=slug) + "?q=access"  # search reads q
                for reader in (http, anonymous):
                    response = await send(reader, "GET", url)
                    assert response.status_code in {200, 401, 403, 404} or (
                        # The live equity of a room between sessions (docs/api.md).
                        response.status_code == 409
                        and response.json()["error"]["code"] == "session_not_open"
                    ), (url, response.text)
                    found.add(response.status_code)
    # The walk reached pages that exist, and the routes that name a row.
    assert 200 in found and with_parameters >= 20
    assert await table_rows(server) == before
