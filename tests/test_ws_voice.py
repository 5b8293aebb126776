"""Voice alongside text, end to end on a real server with real `websockets` clients:
the chair records turns spoken by voice, every client sees them in order, refusals
write nothing; the transcript and the speaking counts include them; the conference
link reaches those seated and nobody else (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from forum.db.models import RoomEvent, RoomSession
from tests.factory import GROUP, PASSWORD
from tests.people import Person, api, person
from tests.rooms_support import SITTING, Peer, peer, seen_upto
from tests.support import LiveServer, client, token_in

LINK = "https://meet.jit.si/AgoraWSIS-Financing-7f3k"


async def written(server: LiveServer) -> tuple[int, int]:
    """Room events and sessions stored: what a refusal must leave as it was."""
    async with server.state["sessionmaker"]() as session:
        events = await session.scalar(select(func.count()).select_from(RoomEvent))
        sessions = await session.scalar(select(func.count()).select_from(RoomSession))
    return int(events or 0), int(sessions or 0)


async def schedule(chair: Person, **fields: Any) -> dict[str, Any]:
    response = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions", {**SITTING, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def voice_events(p: Peer) -> list[tuple[int, int, int | None]]:
    return [
        (frame["seq"], frame["user_id"], frame["duration_s"])
        for frame in p.events()
        if frame["type"] == "floor" and frame["op"] == "voice"
    ]


async def test_the_chair_records_voice_turns_that_every_client_sees(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair Markus")
    remote = await person(server, role="member", name="Remote Ama")
    business = await person(server, family="private_sector", role="member", name="Biz Kim")
    observer = await person(server, family="civil_society", name="Observer Rosa")
    absent = await person(server, role="member", name="Absent Lee")
    opened = await schedule(chair)
    assert (await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{opened['id']}/open")).is_success

    async with (
        peer(server, chair) as c,
        peer(server, remote) as r,
        peer(server, business) as b,
        peer(server, observer) as o,
        peer(server) as s,
    ):
        assert (await c.join("participant"))["type"] == "joined"
        assert (await r.join("remote"))["type"] == "joined"
        assert (await b.join("participant"))["type"] == "joined"
        assert (await o.join("observer"))["seat"] == "observer"
        assert (await s.join("spectator"))["seat"] == "spectator"
        assert (await b.call({"type": "raise_hand"}))["type"] == "ack"
        await s.expect("queue", op="raise", user_id=business.id)

        # Refusals, each with its code; nothing written, nothing sent to the room.
        before = await written(server)
        refusals: list[tuple[Peer, dict[str, Any], str]] = [
            (r, {"user_id": business.id}, "forbidden"),
            (o, {"user_id": business.id}, "forbidden"),
            (s, {"user_id": business.id}, "unauthenticated"),
            (c, {"user_id": observer.id}, "observer_cannot_speak"),
            (c, {"user_id": absent.id}, "not_present"),
            (c, {"user_id": 2_000_000_000}, "not_present"),
            (c, {"user_id": business.id, "duration_s": 0}, "validation_error"),
            (c, {"user_id": business.id, "duration_s": "60"}, "validation_error"),
            (c, {"user_id": business.id, "duration_s": 60.0}, "validation_error"),
            (c, {}, "validation_error"),
        ]
        for who, fields, code in refusals:
            answer = await who.call({"type": "voice_turn", **fields})
            assert answer["type"] == "error" and answer["code"] == code, (fields, answer)
            assert answer["message"]
        assert await written(server) == before
        assert (await o.call({"type": "ping"}))["type"] == "pong"

        # The floor holder's turn is counted already.
        assert (await r.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await c.call({"type": "give_floor", "user_id": remote.id}))["type"] == "ack"
        held = await c.call({"type": "voice_turn", "user_id": remote.id})
        assert held["code"] == "floor_held"
        assert (await c.call({"type": "take_floor"}))["type"] == "ack"

        # Recorded: the business member spoke by voice for 90 s, then Ama, untimed.
        first = await c.call({"type": "voice_turn", "user_id": business.id, "duration_s": 90})
        assert first["type"] == "ack" and isinstance(first["seq"], int)
        second = await c.call({"type": "voice_turn", "user_id": remote.id})
        assert second["type"] == "ack" and second["seq"] == first["seq"] + 1
        expected = [(first["seq"], business.id, 90), (second["seq"], remote.id, None)]
        for p in (c, r, b, o, s):
            await seen_upto(p, second["seq"])
            assert voice_events(p) == expected
        frame = next(f for f in s.events() if f.get("op") == "voice")
        assert frame["name"] == "Biz Kim" and frame["family"] == "private_sector"
        assert frame["seat"] == "participant" and frame["actor"] == chair.id
        # A voice turn serves the speaker: the hand comes down, the family's count rises
        # (rotation reads it), and nobody holds the floor in the room for it.
        assert frame["queue"] == []
        assert frame["spoken"] == {"government": 1, "private_sector": 1}
        last = next(f for f in s.events() if f["seq"] == second["seq"])
        assert last["spoken"] == {"government": 2, "private_sector": 1}
        assert "floor" not in last
        state = (await api(chair, "GET", f"/api/rooms/{GROUP}")).json()
        assert state["spoken"] == {"government": 2, "private_sector": 1}
        assert state["floor"] is None and state["queue"] == []

        # Every client saw the same events in the same order, with no gap.
        seqs = [f["seq"] for f in s.events()]
        assert seqs == sorted(seqs) and seqs == list(range(seqs[0], seqs[-1] + 1))
        for p in (c, r, b, o):
            assert [f["seq"] for f in p.events() if f["seq"] >= seqs[0]] == seqs

        # Resuming replays them like any event.
        async with peer(server, remote) as again:
            joined = await again.join("remote", since=first["seq"] - 1)
            assert joined["replay"] == 2
            await seen_upto(again, second["seq"])
            assert voice_events(again) == expected

    closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{opened['id']}/close")
    assert closed.status_code == 200
    async with client(server) as anonymous:
        document = (await anonymous.get(f"/api/sessions/{opened['id']}/transcript")).json()
        voiced = [e for e in document["events"] if e["type"] == "floor" and e["op"] == "voice"]
        assert [(e["user_id"], e["duration_s"], e["seat"]) for e in voiced] == [
            (business.id, 90, "participant"),
            (remote.id, None, "remote"),
        ]
        speakers = {row["user_id"]: row for row in document["speakers"]}
        assert speakers[remote.id] == {
            "user_id": remote.id,
            "name": "Remote Ama",
            "family": "government",
            "turns": 2,
            "voice_turns": 1,
            "voice_s": 0,
            "interventions": 0,
        }
        assert speakers[business.id]["turns"] == 1
        assert speakers[business.id]["voice_turns"] == 1
        assert speakers[business.id]["voice_s"] == 90
        assert set(speakers) == {remote.id, business.id}

        page = await anonymous.get(f"/sessions/{opened['id']}/transcript")
        assert page.status_code == 200
        assert "<bdi>Biz Kim</bdi> spoke by voice for 90 s." in page.text
        assert "<bdi>Remote Ama</bdi> spoke by voice." in page.text
        assert "Who spoke" in page.text and "Of which by voice" in page.text
        french = await anonymous.get(
            f"/sessions/{opened['id']}/transcript", headers={"Accept-Language": "fr"}
        )
        assert "<bdi>Biz Kim</bdi> a pris la parole oralement pendant 90\u00a0s." in french.text


async def test_no_voice_turn_between_sessions(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    async with peer(server, chair) as c, peer(server, member) as m:
        await c.join("participant")
        await m.join("remote")
        before = await written(server)
        answer = await c.call({"type": "voice_turn", "user_id": member.id, "duration_s": 60})
        assert answer["code"] == "session_not_open"
        assert await written(server) == before


async def test_the_conference_link_reaches_only_those_seated(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    observer = await person(server, family="civil_society")
    outsider = await person(server, family="private_sector")
    conference = f"/api/rooms/{GROUP}/conference"

    # A link that is not https, or hides credentials: refused beside its field, nothing kept.
    before = await written(server)
    for bad in ("http://meet.jit.si/room", "javascript:alert(1)", "https://u:p@meet.example/x"):
        refused = await api(
            chair, "POST", f"/api/rooms/{GROUP}/sessions", {**SITTING, "conference_url": bad}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "conference_url"
    assert await written(server) == before

    scheduled = await schedule(chair, conference_url=f"  {LINK} ")
    assert scheduled["conference_url"] == LINK
    # The public list of sessions does not carry it.
    async with client(server) as anonymous:
        listed = await anonymous.get(f"/api/rooms/{GROUP}/sessions")
        assert listed.status_code == 200 and LINK not in listed.text
    # Editing keeps what it is given; a bad link leaves the session as it was.
    edit = f"/api/rooms/{GROUP}/sessions/{scheduled['id']}"
    wrong = await api(chair, "PUT", edit, {**SITTING, "conference_url": "ftp://x.example/"})
    assert wrong.status_code == 422
    assert (await api(chair, "PUT", edit, {**SITTING, "conference_url": LINK})).json()[
        "conference_url"
    ] == LINK

    async with (
        peer(server, chair) as c,
        peer(server, member) as m,
        peer(server, observer) as o,
        peer(server) as s,
    ):
        assert (await s.join("spectator"))["seat"] == "spectator"
        assert (await c.join("participant"))["type"] == "joined"
        assert (await c.call({"type": "open_session", "session_id": scheduled["id"]}))[
            "type"
        ] == "ack"
        await s.expect("session", op="open")

        # Not seated yet: refused; signed out: refused.
        async with client(server) as anonymous:
            assert (await anonymous.get(conference)).status_code == 401
            page = await anonymous.get(f"/groups/{GROUP}/room")
            assert page.status_code == 200 and LINK not in page.text
        refused = await api(member, "GET", conference)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        assert (await api(outsider, "GET", conference)).status_code == 403

        # Seated, in the room, remote or as an observer: the link of the open session.
        await m.join("remote")
        await o.join("observer")
        for who in (member, observer, chair):
            answer = await api(who, "GET", conference)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"session_id": scheduled["id"], "conference_url": LINK}

        # A seated person's page does not carry it either: the script asks for it.
        async with client(server) as http:
            await http.login(member.user["email"], PASSWORD)
            page = await http.get(f"/groups/{GROUP}/room")
            assert page.status_code == 200 and LINK not in page.text

        # Once the seat is left, the link is no longer given.
        assert (await m.call({"type": "leave"}))["type"] == "ack"
        assert (await api(member, "GET", conference)).status_code == 403

        # Nothing the spectator received names it.
        await s.call({"type": "ping"})
        assert s.seen and all(LINK not in json.dumps(frame) for frame in s.seen)

    # Between sessions there is no link to give.
    closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{scheduled['id']}/close")
    assert closed.json()["conference_url"] == LINK
    async with client(server) as anonymous:
        transcript = await anonymous.get(f"/api/sessions/{scheduled['id']}/transcript")
        assert transcript.status_code == 200 and LINK not in transcript.text
    assert (await api(chair, "GET", conference)).json() == {
        "session_id": None,
        "conference_url": None,
    }


async def test_the_chair_sets_the_link_from_the_forms(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    page_path = f"/groups/{GROUP}/room/sessions"
    fields = {
        "title": "Financing mechanisms",
        "format": "statements",
        "starts_at": "2005-11-16T09:00",
        "ends_at": "2005-11-16T12:00",
        "agenda": "",
    }
    async with client(server, follow_redirects=False) as http:
        await http.login(chair.user["email"], PASSWORD)
        page = await http.get(page_path)
        token = token_in(page.text)
        assert 'id="conference_url"' in page.text
        before = await written(server)
        wrong = await http.post(
            page_path,
            data={"csrf_token": token, **fields, "conference_url": "http://meet.jit.si/x"},
        )
        assert wrong.status_code == 422
        assert await written(server) == before
        # The error beside the field, and what was typed kept.
        assert 'id="conference_url-error"' in wrong.text
        assert "A conference link starts with https://." in wrong.text
        assert 'value="http://meet.jit.si/x"' in wrong.text
        done = await http.post(
            page_path, data={"csrf_token": token, **fields, "conference_url": LINK}
        )
        assert done.status_code == 303
        async with server.state["sessionmaker"]() as session:
            row = await session.scalar(select(RoomSession).order_by(RoomSession.id.desc()))
        assert row is not None and row.conference_url == LINK
        edit_path = f"{page_path}/{row.id}/edit"
        edit = await http.get(edit_path)
        assert f'value="{LINK}"' in edit.text
        # Emptied on the edit page: the session has no conference any more.
        cleared = await http.post(
            edit_path, data={"csrf_token": token, **fields, "conference_url": ""}
        )
        assert cleared.status_code == 303
        async with server.state["sessionmaker"]() as session:
            again = await session.get(RoomSession, row.id)
        assert again is not None and again.conference_url is None
