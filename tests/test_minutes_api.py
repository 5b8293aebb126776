"""A closed session's minutes and follow-ups over the JSON API of a real server: kept by
the chairs of the groups taking part, each change listed, everyone else refused with
nothing written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from forum.db.models import FollowUp, RecordChange, SessionMinutes
from tests.factory import GROUP
from tests.people import Person, api, person
from tests.rooms_support import schedule_and_open
from tests.support import LiveServer, client, make_secretariat


async def closed_session(chair: Person) -> int:
    opened = await schedule_and_open(chair, title="Financing")
    closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{opened['id']}/close")
    assert closed.status_code == 200, closed.text
    return int(opened["id"])


async def rows(server: LiveServer) -> tuple[int, int, int]:
    async with server.state["sessionmaker"]() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (SessionMinutes, FollowUp, RecordChange)
        ]
    return (counts[0] or 0, counts[1] or 0, counts[2] or 0)


async def record(server: LiveServer, session_id: int, who: Person | None = None) -> dict[str, Any]:
    if who is not None:
        response = await api(who, "GET", f"/api/sessions/{session_id}/record")
    else:
        async with client(server) as http:
            response = await http.get(f"/api/sessions/{session_id}/record")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_chair_keeps_the_record_and_every_change_is_listed(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair Markus")
    session_id = await closed_session(chair)
    public = await record(server, session_id)
    assert public["may_edit"] is False
    assert public["minutes"] is None and public["follow_ups"] == [] and public["changes"] == []
    assert [party["slug"] for party in public["parties"]] == [GROUP]
    assert (await record(server, session_id, chair))["may_edit"] is True

    path = f"/api/sessions/{session_id}"
    written = await api(chair, "PUT", f"{path}/minutes", {"body": "Agreed: *two* studies."})
    assert written.status_code == 200, written.text
    minutes = written.json()["minutes"]
    assert minutes["version"] == 1 and "<em>two</em>" in minutes["body_html"]
    assert minutes["updated_by"]["name"] == "Chair Markus"

    rewritten = await api(
        chair, "PUT", f"{path}/minutes", {"body": "Agreed: three studies.", "version": 1}
    )
    assert rewritten.json()["minutes"]["version"] == 2
    # Written on version 1 after version 2: refused, the minutes unchanged.
    stale = await api(chair, "PUT", f"{path}/minutes", {"body": "Lost", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"

    added = await api(
        chair,
        "POST",
        f"{path}/follow-ups",
        {"item": "Draft the financing study", "owner": GROUP, "due": "2005-12-01"},
    )
    assert added.status_code == 201, added.text
    item = added.json()["follow_ups"][0]
    assert item["status"] == "open" and item["due"] == "2005-12-01"
    assert item["owner"]["slug"] == GROUP

    changed = await api(
        chair,
        "PUT",
        f"{path}/follow-ups/{item['id']}",
        {
            "item": item["item"],
            "owner": GROUP,
            "due": "2005-12-15",
            "status": "in_progress",
            "version": item["version"],
        },
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["follow_ups"][0]["status"] == "in_progress"
    assert after["follow_ups"][0]["version"] == 2
    ops = [(c["kind"], c["op"]) for c in after["changes"]]
    assert ops == [
        ("minutes", "write"),
        ("minutes", "write"),
        ("follow_up", "add"),
        ("follow_up", "edit"),
    ]
    last = after["changes"][-1]
    assert last["changes"] == {
        "due": ["2005-12-01", "2005-12-15"],
        "status": ["open", "in_progress"],
    }
    assert last["by"]["name"] == "Chair Markus"
    # The same change again changes nothing, and is not listed.
    again = await api(
        chair,
        "PUT",
        f"{path}/follow-ups/{item['id']}",
        {"item": item["item"], "owner": GROUP, "due": "2005-12-15", "status": "in_progress"},
    )
    assert len(again.json()["changes"]) == 4
    # Everyone reads it, as the transcript.
    assert (await record(server, session_id))["follow_ups"][0]["status"] == "in_progress"


async def test_others_are_refused_and_nothing_is_written(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    caucus_chair = await person(
        server, family="civil_society", group="human-rights-caucus", role="chair"
    )
    session_id = await closed_session(chair)
    path = f"/api/sessions/{session_id}"
    await api(chair, "POST", f"{path}/follow-ups", {"item": "Study", "owner": GROUP})
    before = await rows(server)
    item_id = (await record(server, session_id))["follow_ups"][0]["id"]
    for who in (member, caucus_chair):
        for method, url, body in (
            ("PUT", f"{path}/minutes", {"body": "Mine"}),
            ("POST", f"{path}/follow-ups", {"item": "Mine", "owner": GROUP}),
            ("PUT", f"{path}/follow-ups/{item_id}", {"item": "Mine", "owner": GROUP}),
        ):
            refused = await api(who, method, url, body)
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "forbidden"
    async with client(server) as http:
        anonymous = await http.put(f"{path}/minutes", json={"body": "Mine"})
    assert anonymous.status_code == 401
    assert await rows(server) == before


async def test_what_a_record_refuses(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    session_id = await closed_session(chair)
    path = f"/api/sessions/{session_id}"
    before = await rows(server)
    for body, field in (
        ({"item": "Study", "owner": "cs-plenary"}, "owner"),
        ({"item": "Study", "owner": "no-such-group"}, "owner"),
        ({"item": "   ", "owner": GROUP}, "item"),
        ({"item": "Study", "owner": GROUP, "due": "2999-01-01"}, "due"),
    ):
        refused = await api(chair, "POST", f"{path}/follow-ups", body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == field
    blank = await api(chair, "PUT", f"{path}/minutes", {"body": " \n "})
    assert blank.status_code == 422
    assert (
        await api(chair, "PUT", f"{path}/follow-ups/999999", {"item": "x", "owner": GROUP})
    ).status_code == 404
    assert (await api(chair, "GET", "/api/sessions/999999/record")).status_code == 404
    nowhere = await api(chair, "PUT", "/api/sessions/999999/minutes", {"body": "x"})
    assert nowhere.status_code == 404
    # A session not yet held has no record.
    scheduled = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {"title": "Later", "starts_at": "2005-11-18T09:00:00Z", "ends_at": "2005-11-18T10:00:00Z"},
    )
    later = scheduled.json()["id"]
    early = await api(chair, "PUT", f"/api/sessions/{later}/minutes", {"body": "Too early"})
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "session_not_closed"
    assert (await api(chair, "GET", f"/api/sessions/{later}/record")).status_code == 404
    assert await rows(server) == before


async def test_a_coordinator_and_the_secretariat_keep_it_too(sqlite_server: LiveServer) -> None:
    chair = await person(sqlite_server, role="chair")
    coordinator = await person(sqlite_server, role="coordinator")
    secretariat = await person(sqlite_server)
    await make_secretariat(sqlite_server, secretariat.id)
    session_id = await closed_session(chair)
    for who in (coordinator, secretariat):
        done = await api(who, "PUT", f"/api/sessions/{session_id}/minutes", {"body": "Noted."})
        assert done.status_code == 200, done.text
