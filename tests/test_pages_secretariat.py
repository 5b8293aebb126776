"""The secretariat's pages over HTTP: nobody else sees or uses them, forms refuse
beside their fields and keep what was typed, paragraph 27a's refusal is shown."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.db.models import Group, Membership, Room
from forum.web import pages_secretariat, pages_secretariat_lines
from tests.bad_input_support import table_rows
from tests.people import person
from tests.secretariat_support import create_secretariat, post_form, signed_in
from tests.support import LiveServer, client

PARAM = re.compile(r"{(\w+)(?::\w+)?}")


async def _a_pending_request(server: LiveServer) -> int:
    someone = await person(server, family="civil_society")
    async with signed_in(server, someone.user["email"]) as http:
        response = await post_form(http, "/profile/family", family="government")
        assert response.status_code == 303, response.text
    async with server.state["sessionmaker"]() as session:
        from forum.db.queries import pending_family_request

        found = await pending_family_request(session, someone.id)
    assert found is not None
    return found.id


def _secretariat_routes() -> list[tuple[str, str]]:
    return [
        (method, route.path)
        for route in pages_secretariat.routes + pages_secretariat_lines.routes
        for method in sorted(route.methods or ())
        if method != "HEAD"
    ]


async def test_nobody_but_the_secretariat_sees_or_uses_its_pages(server: LiveServer) -> None:
    request_id = await _a_pending_request(server)
    member = await person(server, family="government", role="chair")
    values = {
        "slug": "wgig",
        "code": "C1",
        "user_id": str(member.id),
        "request_id": str(request_id),
    }
    form = {
        "slug": "new-group",
        "name": "Taken over",
        "kind": "caucus",
        "family": "civil_society",
        "title": "Taken over",
        "email": member.user["email"],
        "role": "chair",
        "decision": "approve",
    }
    routes = _secretariat_routes()
    assert len(routes) == 12
    async with signed_in(server, member.user["email"]) as chair, client(server) as nobody:
        before = await table_rows(server)
        for method, template in routes:
            url = PARAM.sub(lambda m: values[m[1]], template)
            for who, status in ((chair, 403), (nobody, 401)):
                if method == "GET":
                    response = await who.get(url, headers={"accept": "text/html"})
                else:
                    response = await post_form(who, url, **form)
                # Signed out, a form has no session token: the CSRF check refuses first.
                expected = 403 if method == "POST" else status
                assert response.status_code == expected, (method, url, response.text)
                if who is chair:
                    assert "Only the secretariat may do this." in response.text, url
        assert await table_rows(server) == before


async def test_the_secretariat_makes_a_group_with_its_room_and_appoints_its_chair(
    server: LiveServer,
) -> None:
    email = await create_secretariat(server)
    chair = await person(server, family="civil_society", name="Renata Aquino")
    async with signed_in(server, email) as http:
        page = await http.get("/secretariat/groups")
        assert page.status_code == 200
        refused = await post_form(
            http,
            "/secretariat/groups",
            slug="Bad Slug",
            name="Rural Connectivity Caucus",
            kind="caucus",
            family="civil_society",
            region="africa",
            description="Young people of the forum.",
            action_lines=["C4", "C7"],
        )
        assert refused.status_code == 422
        beside = re.search(
            r'<span class="field-error" id="slug-error">([^<]*)</span>', refused.text
        )
        assert beside and "lower-case letters" in beside[1]
        assert 'value="Rural Connectivity Caucus"' in refused.text
        assert 'value="C4" checked' in refused.text and 'value="africa" selected' in refused.text
        made = await post_form(
            http,
            "/secretariat/groups",
            slug="rural-connectivity",
            name="Rural Connectivity Caucus",
            kind="caucus",
            family="civil_society",
            region="africa",
            description="Young people of the forum.",
            action_lines=["C4", "C7"],
        )
        assert made.status_code == 303, made.text
        assert made.headers["location"] == "/secretariat/groups/rural-connectivity?done=created"
        again = await post_form(
            http,
            "/secretariat/groups",
            slug="rural-connectivity",
            name="Twice",
            kind="caucus",
            family="civil_society",
        )
        assert again.status_code == 409
        appointed = await post_form(
            http,
            "/secretariat/groups/rural-connectivity/members",
            email=chair.user["email"].upper(),
            role="chair",
        )
        assert appointed.status_code == 303, appointed.text
        shown = await http.get("/groups/rural-connectivity")
        assert "Renata Aquino" in shown.text
    async with server.state["sessionmaker"]() as session:
        group = await session.scalar(select(Group).where(Group.slug == "rural-connectivity"))
        assert group is not None and (group.kind, group.region) == ("caucus", "africa")
        assert await session.scalar(select(Room.id).where(Room.group_id == group.id))
        role = await session.scalar(
            select(Membership.role).where(
                Membership.group_id == group.id, Membership.user_id == chair.id
            )
        )
        assert role == "chair"


async def test_paragraph_27a_is_refused_beside_the_form(server: LiveServer) -> None:
    email = await create_secretariat(server)
    delegate = await person(server, family="government")
    activists = [await person(server, family="civil_society") for _ in range(2)]
    async with signed_in(server, email) as http:
        ok = await post_form(
            http,
            "/secretariat/groups/government-bureau/members",
            email=delegate.user["email"],
            role="member",
        )
        assert ok.status_code == 303, ok.text
        first = await post_form(
            http,
            "/secretariat/groups/cs-bureau/members",
            email=activists[0].user["email"],
            role="member",
        )
        assert first.status_code == 303, first.text
        before = await table_rows(server)
        refused = await post_form(
            http,
            "/secretariat/groups/cs-bureau/members",
            email=activists[1].user["email"],
            role="member",
        )
        assert refused.status_code == 409
        message = (
            "The civil society bureau may not have more members than the governmental bureau (1)."
        )
        assert message in refused.text
        assert f'value="{activists[1].user["email"]}"' in refused.text
        assert await table_rows(server) == before
        # A member's row refuses beside itself: the governmental bureau cannot shrink
        # below the civil society one.
        shrink = await post_form(
            http, f"/secretariat/groups/government-bureau/members/{delegate.id}", role="remove"
        )
        assert shrink.status_code == 409
        assert f'id="member-{delegate.id}-error">{message.replace("(1)", "(0)")}' in shrink.text
        assert await table_rows(server) == before


async def test_action_lines_are_retitled_with_their_facilitators(server: LiveServer) -> None:
    email = await create_secretariat(server)
    async with signed_in(server, email) as http:
        refused = await post_form(
            http, "/secretariat/action-lines/C3", title="  ", description="", facilitators="UNESCO"
        )
        assert refused.status_code == 422
        assert 'id="title-error"' in refused.text and "UNESCO</textarea>" in refused.text
        saved = await post_form(
            http,
            "/secretariat/action-lines/C3",
            title="Access to information and knowledge",
            description="Libraries, archives, open data.",
            facilitators="UNESCO\nITU\n",
        )
        assert saved.status_code == 303
        line = (await http.get("/api/action-lines/C3")).json()
    assert line["facilitators"] == ["UNESCO", "ITU"]
    assert line["description"] == "Libraries, archives, open data."


@pytest.mark.parametrize("decision", ["approve", "refuse"])
async def test_a_family_change_waits_for_the_secretariat(server: LiveServer, decision: str) -> None:
    email = await create_secretariat(server)
    request_id = await _a_pending_request(server)
    async with signed_in(server, email) as http:
        listed = await http.get("/secretariat/family-requests")
        assert "asks to move from Civil society to Government" in listed.text
        wrong = await post_form(http, f"/secretariat/family-requests/{request_id}", decision="x")
        assert wrong.status_code == 422
        done = await post_form(
            http, f"/secretariat/family-requests/{request_id}", decision=decision
        )
        assert done.status_code == 303
        twice = await post_form(
            http, f"/secretariat/family-requests/{request_id}", decision=decision
        )
        assert twice.status_code == 404
    async with server.state["sessionmaker"]() as session:
        from forum.db.models import FamilyRequest, User

        asked = await session.get(FamilyRequest, request_id)
        assert asked is not None
        family = await session.scalar(select(User.family).where(User.id == asked.user_id))
    expected = {"approve": ("approved", "government"), "refuse": ("refused", "civil_society")}
    assert (asked.status, family) == expected[decision]
