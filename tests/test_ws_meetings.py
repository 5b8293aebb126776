"""Briefings and consultations end to end on a real server, with real `websockets`
clients: a briefing among four named office-holders (a non-invitee refused), and an
issue-based consultation between a governmental working group and a caucus, proposed
at short notice, accepted, its delegations named by each side, held with alternating
turns. Each refusal writes nothing and publishes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from forum.db.base import utcnow
from forum.db.models import Consultation, Meeting, MeetingPerson, RoomEvent, RoomSession
from tests.people import api, person
from tests.rooms_support import Peer, peer
from tests.support import LiveServer, client, make_secretariat

WG, CAUCUS = "financing-wg", "financing-caucus"


async def written(server: LiveServer) -> tuple[int, ...]:
    """Rows a refusal must leave as they were."""
    async with server.state["sessionmaker"]() as session:
        counts = [
            int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (RoomEvent, RoomSession, Meeting, MeetingPerson, Consultation)
        ]
        statuses = (await session.scalars(select(Consultation.status))).all()
    return (*counts, hash(tuple(statuses)))


def briefing(invitees: list[int], **fields: Any) -> dict[str, Any]:
    start = utcnow() + timedelta(days=1)
    return {
        "title": "Daily briefing on financing",
        "agenda": "1. State of play",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "invitees": invitees,
        **fields,
    }


async def quiet(p: Peer, wait: float = 0.4) -> list[dict[str, Any]]:
    """Frames that arrive within `wait`: none is expected after a refusal."""
    frames = []
    try:
        while True:
            frames.append(await p.next(wait))
    except TimeoutError:
        return frames


async def test_a_briefing_among_four_named_office_holders(server: LiveServer) -> None:
    secretariat = await person(server, family="international_org", name="Secretariat Ines")
    await make_secretariat(server, secretariat.id)
    sub_chair = await person(server, role="chair", group="sc2-infrastructure", name="Chair Kofi")
    facilitator = await person(server, family="international_org", name="Facilitator Ana")
    themes = await person(
        server, family="civil_society", role="chair", group="ct-coordination", name="Chair Lin"
    )
    outsider = await person(server, role="member", group="financing-wg", name="Member Otto")
    four = [secretariat, sub_chair, facilitator, themes]

    before = await written(server)
    refused = await api(outsider, "POST", "/api/briefings", briefing([outsider.id]))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert await written(server) == before

    made = await api(secretariat, "POST", "/api/briefings", briefing([p.id for p in four]))
    assert made.status_code == 201, made.text
    record = made.json()
    assert record["kind"] == "briefing" and not record["transcript_closed"]
    assert {p["user_id"]: p["role"] for p in record["people"]} == {
        secretariat.id: "chair",
        sub_chair.id: "invitee",
        facilitator.id: "invitee",
        themes.id: "invitee",
    }
    room = record["room"]

    async with (
        peer(server, secretariat) as chair_ws,
        peer(server, sub_chair) as kofi,
        peer(server, facilitator) as ana,
        peer(server, themes) as lin,
        peer(server, outsider) as otto,
        peer(server) as spectator,
    ):
        for p in (chair_ws, kofi, ana, lin):
            joined = await p.join("remote", room=room)
            assert joined["type"] == "joined", joined
        before = await written(server)
        for seat in ("remote", "participant", "observer"):
            no = await otto.join(seat, room=room)
            assert (no["type"], no["code"]) == ("error", "not_invited"), no
        assert await written(server) == before
        assert (await spectator.join("spectator", room=room))["type"] == "joined"

        opened = await chair_ws.call(
            {"type": "open_session", "session_id": record["session"]["id"]}
        )
        assert opened["type"] == "ack", opened
        # Live now on the front page, linked to the meeting's own room.
        async with client(server) as http:
            front = (await http.get("/")).text
        meeting_id = record["id"]
        assert f'href="/meetings/{meeting_id}/room"' in front
        assert f'href="/meetings/{meeting_id}"' in front and "Live now" in front
        raised = await kofi.call({"type": "raise_hand"})
        assert raised["type"] == "ack", raised
        given = await chair_ws.call({"type": "give_floor"})
        assert given["type"] == "ack", given
        said = await kofi.call({"type": "speak", "body": "The backbone is funded."})
        assert said["type"] == "ack", said
        for p in (chair_ws, ana, lin, spectator):
            heard = await p.expect("intervention", user_id=sub_chair.id)
            assert heard["body"] == "The backbone is funded."
        closed = await chair_ws.call(
            {"type": "close_session", "session_id": record["session"]["id"]}
        )
        assert closed["type"] == "ack", closed

    async with client(server) as http:
        transcript = await http.get(f"/api/sessions/{record['session']['id']}/transcript")
        assert transcript.status_code == 200, transcript.text
        assert [e["body"] for e in transcript.json()["events"] if e["type"] == "intervention"] == [
            "The backbone is funded."
        ]
        shown = (await http.get(f"/api/meetings/{record['id']}")).json()
    assert {p["user_id"] for p in shown["attended"]} == {p.id for p in four}


async def test_a_closed_briefing_keeps_its_record_public_and_its_transcript_closed(
    server: LiveServer,
) -> None:
    chair = await person(server, role="chair", group="sc2-infrastructure", name="Chair Kofi")
    guest = await person(server, family="civil_society", name="Guest Mei")
    made = await api(chair, "POST", "/api/briefings", briefing([guest.id], transcript_closed=True))
    assert made.status_code == 201, made.text
    record = made.json()
    async with peer(server, chair) as chair_ws, peer(server) as spectator:
        assert (await chair_ws.join("remote", room=record["room"]))["type"] == "joined"
        no = await spectator.join("spectator", room=record["room"])
        assert (no["type"], no["code"]) == ("error", "not_invited"), no
        sid = record["session"]["id"]
        assert (await chair_ws.call({"type": "open_session", "session_id": sid}))["type"] == "ack"
        assert (await chair_ws.call({"type": "close_session", "session_id": sid}))["type"] == "ack"
    outcome = await api(
        chair, "PUT", f"/api/meetings/{record['id']}/outcome", {"summary": "Agreed: *a plan*."}
    )
    assert outcome.status_code == 200, outcome.text
    refused = await api(guest, "PUT", f"/api/meetings/{record['id']}/outcome", {"summary": "x"})
    assert refused.status_code == 403
    async with client(server) as http:
        assert (await http.get(f"/api/sessions/{sid}/transcript")).status_code == 404
        shown = (await http.get(f"/api/meetings/{record['id']}")).json()
    assert "Agreed: <em>a plan</em>." in shown["outcome_html"]
    assert shown["session"]["closed_at"] is not None
    assert {p["user_id"] for p in shown["people"]} == {chair.id, guest.id}


def proposal(days: float, **fields: Any) -> dict[str, Any]:
    return {
        "host": WG,
        "guest": CAUCUS,
        "basis": "issue",
        "title": "Financing the follow-up",
        "purpose": "Hear the caucus on the Digital Solidarity Fund.",
        "format": "open_debate",
        "agenda": "1. Statements\n2. Debate",
        "starts_at": (utcnow() + timedelta(days=days)).isoformat(),
        "minutes": 90,
        "seats_per_side": 2,
        **fields,
    }


async def test_an_issue_based_consultation_at_short_notice(server: LiveServer) -> None:
    wg_chair = await person(server, role="chair", group=WG, name="Chair Maria")
    wg_a = await person(server, role="member", group=WG, name="Delegate Ade")
    wg_b = await person(server, role="member", group=WG, name="Delegate Bea")
    wg_c = await person(server, role="member", group=WG, name="Delegate Cem")
    cs_lead = await person(
        server, family="civil_society", role="coordinator", group=CAUCUS, name="Coord Nia"
    )
    cs_a = await person(server, family="civil_society", role="member", group=CAUCUS, name="CS Ola")
    cs_b = await person(server, family="civil_society", role="member", group=CAUCUS, name="CS Pia")

    made = await api(wg_chair, "POST", "/api/consultations", proposal(5))
    assert made.status_code == 201, made.text
    record = made.json()
    consultation = record["consultation"]
    assert consultation["status"] == "proposed" and consultation["short_notice"] is True
    assert consultation["notice_days"] == 4  # five days less the seconds gone since
    mid = record["id"]
    roomy = await api(wg_chair, "POST", "/api/consultations", proposal(30, title="Later"))
    assert roomy.json()["consultation"]["short_notice"] is False

    # Accepting a consultation one does not chair: its own side, or a member.
    before = await written(server)
    for who in (wg_chair, cs_a):
        refused = await api(who, "POST", f"/api/consultations/{mid}/answer", {"answer": "accept"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "not_consultation_chair"
    assert await written(server) == before

    accepted = await api(cs_lead, "POST", f"/api/consultations/{mid}/answer", {"answer": "accept"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["consultation"]["status"] == "accepted"

    # Each side names its own delegation, within the seats agreed.
    before = await written(server)
    too_many = await api(
        wg_chair,
        "PUT",
        f"/api/consultations/{mid}/delegations/{WG}",
        {"delegates": [wg_a.id, wg_b.id, wg_c.id]},
    )
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "delegation_too_large"
    others = await api(
        wg_chair, "PUT", f"/api/consultations/{mid}/delegations/{CAUCUS}", {"delegates": [cs_a.id]}
    )
    assert others.status_code == 403
    assert others.json()["error"]["code"] == "not_consultation_chair"
    assert await written(server) == before
    for who, side, chosen in ((wg_chair, WG, [wg_a, wg_b]), (cs_lead, CAUCUS, [cs_a, cs_b])):
        named = await api(
            who,
            "PUT",
            f"/api/consultations/{mid}/delegations/{side}",
            {"delegates": [p.id for p in chosen]},
        )
        assert named.status_code == 200, named.text

    async with client(server) as http:
        schedule = (await http.get("/sessions")).text
    assert "Financing the follow-up" in schedule and "Short notice" in schedule

    room = record["room"]
    async with (
        peer(server, wg_chair) as chair_ws,
        peer(server, cs_lead) as nia,
        peer(server, wg_a) as ade,
        peer(server, wg_b) as bea,
        peer(server, cs_a) as ola,
        peer(server, cs_b) as pia,
        peer(server, wg_c) as cem,
    ):
        for p in (chair_ws, nia, ade, bea, ola, pia):
            assert (await p.join("remote", room=room))["type"] == "joined"
        no = await cem.join("remote", room=room)
        assert (no["type"], no["code"]) == ("error", "not_invited")
        # Changes to the consultation reach its room live; a refusal sends nothing.
        path = f"/api/consultations/{mid}/delegations/{CAUCUS}"
        refused = await api(cs_lead, "PUT", path, {"delegates": [cs_a.id, cs_b.id, cs_lead.id]})
        assert refused.json()["error"]["code"] == "delegation_too_large"
        assert [f for f in await quiet(chair_ws) if f["type"] != "presence"] == []
        renamed = await api(cs_lead, "PUT", path, {"delegates": [cs_a.id, cs_b.id]})
        assert renamed.status_code == 200, renamed.text
        heard = await chair_ws.expect("consultation", op="delegation")
        assert (heard["side"], heard["delegates"]) == (
            record["consultation"]["guest"]["id"],
            [
                cs_a.id,
                cs_b.id,
            ],
        )
        sid = record["session"]["id"]
        assert (await chair_ws.call({"type": "open_session", "session_id": sid}))["type"] == "ack"
        # Both of the host's delegates raise their hands first; the queue alternates.
        for p in (ade, bea, ola, pia):
            assert (await p.call({"type": "raise_hand"}))["type"] == "ack"
        order = []
        for _ in range(4):
            given = await chair_ws.call({"type": "give_floor"})
            assert given["type"] == "ack", given
            floor = await nia.expect("floor", op="give")
            order.append(floor["floor"]["user_id"])
        assert order == [wg_a.id, cs_a.id, wg_b.id, cs_b.id]

        closed = await chair_ws.call({"type": "close_session", "session_id": sid})
        assert closed["type"] == "ack", closed

    # Closed: each side's lead keeps the record; follow-ups are given to either side and
    # both update them, every change kept with who made it.
    record_path = f"/api/sessions/{sid}"
    shown = await api(cs_lead, "GET", f"{record_path}/record")
    assert shown.status_code == 200, shown.text
    assert [p["slug"] for p in shown.json()["parties"]] == [WG, CAUCUS]
    assert shown.json()["may_edit"] is True
    minutes = await api(
        wg_chair, "PUT", f"{record_path}/minutes", {"body": "Both sides heard.", "version": None}
    )
    assert minutes.status_code == 200, minutes.text
    listed = await api(
        cs_lead,
        "POST",
        f"{record_path}/follow-ups",
        {"item": "Costed options for the financing mechanism", "owner": WG},
    )
    assert listed.status_code == 201, listed.text
    item = listed.json()["follow_ups"][0]
    moved = await api(
        wg_chair,
        "PUT",
        f"{record_path}/follow-ups/{item['id']}",
        {
            "item": item["item"],
            "owner": WG,
            "status": "in_progress",
            "version": item["version"],
        },
    )
    assert moved.status_code == 200, moved.text
    record_now = moved.json()
    assert record_now["follow_ups"][0]["status"] == "in_progress"
    assert [c["by"]["id"] for c in record_now["changes"]] == [wg_chair.id, cs_lead.id, wg_chair.id]
    # A delegate of either side keeps no record: refused, nothing written.
    before = (await api(cs_lead, "GET", f"{record_path}/record")).json()
    for who in (cs_a, wg_a):
        refused = await api(
            who, "PUT", f"{record_path}/minutes", {"body": "Mine.", "version": None}
        )
        assert refused.status_code == 403, refused.text
    assert (await api(cs_lead, "GET", f"{record_path}/record")).json() == before
