"""The JSON counterparts of the profile and secretariat pages: the same actions, the
same refusals, and 403 with nothing changed for anyone but the secretariat."""

from __future__ import annotations

from tests.bad_input_support import table_rows
from tests.factory import PASSWORD
from tests.people import api, person
from tests.secretariat_support import create_secretariat
from tests.support import LiveServer, client


async def test_one_edits_ones_profile_and_password_over_json(server: LiveServer) -> None:
    someone = await person(server, family="civil_society")
    edited = await api(
        someone, "PATCH", "/api/me", {"country": "br", "time_zone": "America/Recife"}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["country"], edited.json()["region"]) == ("BR", "latin-america-caribbean")
    bad = await api(someone, "PATCH", "/api/me", {"language": "xx"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "language")
    wrong = await api(
        someone, "POST", "/api/me/password", {"current_password": "no", "password": "x" * 20}
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["message"] == "The current password is wrong."
    done = await api(
        someone,
        "POST",
        "/api/me/password",
        {"current_password": PASSWORD, "password": "seven words of a longer phrase"},
    )
    assert done.status_code == 204
    # The token that asked is kept; the others would have ended.
    assert (await api(someone, "GET", "/api/me")).status_code == 200
    out = await api(someone, "POST", "/api/auth/logout-everywhere")
    assert out.status_code == 204
    assert (await api(someone, "GET", "/api/me")).status_code == 401


async def test_a_family_change_over_json(server: LiveServer) -> None:
    email = await create_secretariat(server)
    someone = await person(server, family="civil_society")
    assert (await api(someone, "GET", "/api/me/family-request")).json() == {"request": None}
    asked = await api(someone, "POST", "/api/me/family-request", {"family": "government"})
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    async with client(server) as secretariat:
        token = await secretariat.post(
            "/api/auth/token", json={"email": email, "password": PASSWORD}
        )
        headers = {"authorization": f"Bearer {token.json()['token']}"}
        listed = await secretariat.get("/api/secretariat/family-requests", headers=headers)
        assert [r["id"] for r in listed.json()["requests"]] == [asked.json()["id"]]
        decided = await secretariat.post(
            f"/api/secretariat/family-requests/{asked.json()['id']}",
            json={"decision": "approve"},
            headers=headers,
        )
        assert decided.status_code == 200 and decided.json()["status"] == "approved"
        made = await secretariat.post(
            "/api/groups",
            json={
                "slug": "rural-connectivity",
                "name": "Rural Connectivity Caucus",
                "kind": "caucus",
                "family": "civil_society",
                "action_lines": ["C2"],
            },
            headers=headers,
        )
        assert made.status_code == 201, made.text
        assert made.json()["action_lines"] == ["C2"]
        edited = await secretariat.patch(
            "/api/groups/rural-connectivity",
            json={"name": "Rural Caucus", "region": "nowhere"},
            headers=headers,
        )
        assert (edited.status_code, edited.json()["error"]["field"]) == (422, "region")
        line = await secretariat.patch(
            "/api/action-lines/C5",
            json={"title": "Building confidence and security", "facilitators": ["ITU"]},
            headers=headers,
        )
        assert line.status_code == 200 and line.json()["facilitators"] == ["ITU"]
    assert (await api(someone, "GET", "/api/me")).json()["family"] == "government"


async def test_nobody_else_keeps_the_structure_over_json(server: LiveServer) -> None:
    chair = await person(server, family="government", role="chair")
    asked = await api(chair, "POST", "/api/me/family-request", {"family": "private_sector"})
    before = await table_rows(server)
    group = {"slug": "x-group", "name": "X", "kind": "caucus", "family": "government"}
    calls = [
        ("POST", "/api/groups", group),
        ("PATCH", "/api/groups/wgig", {"name": "Taken"}),
        ("PATCH", "/api/action-lines/C1", {"title": "Taken"}),
        ("GET", "/api/secretariat/family-requests", None),
        ("POST", f"/api/secretariat/family-requests/{asked.json()['id']}", {"decision": "approve"}),
    ]
    for method, path, body in calls:
        response = await api(chair, method, path, body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["message"] == "Only the secretariat may do this."
    assert await table_rows(server) == before
