"""The answers to a consultation on a real server: declined with a reason that both
sides and the room see (and no delegation named after it), another time proposed by
the invited side and accepted by the host (the session moves to it), an answer that is
none of the three, and a delegation named for a group that is not a side. Each
refusal writes nothing and publishes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from forum.db.base import utcnow
from forum.db.models import Consultation, Meeting, MeetingPerson, RoomEvent, RoomSession
from tests.capture import EventCapture
from tests.people import Person, api, person
from tests.rooms_support import peer
from tests.support import LiveServer, client, token_in
from tests.test_ws_meetings import CAUCUS, WG, proposal, written


async def cast(server: LiveServer) -> tuple[Person, Person, Person]:
    """The working group's chair, the caucus's coordinator, and a member of the caucus."""
    wg_chair = await person(server, role="chair", group=WG, name="Chair Maria")
    cs_lead = await person(
        server, family="civil_society", role="coordinator", group=CAUCUS, name="Coord Nia"
    )
    cs_member = await person(
        server, family="civil_society", role="member", group=CAUCUS, name="CS Ola"
    )
    return wg_chair, cs_lead, cs_member


async def room_of(server: LiveServer, meeting_id: int) -> int:
    async with server.state["sessionmaker"]() as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting.room_id


async def logged(
    server: LiveServer, room_id: int
) -> list[tuple[str, int | None, Mapping[str, Any]]]:
    """The consultation events the room's log keeps, in order."""
    async with server.state["sessionmaker"]() as session:
        rows = await session.scalars(
            select(RoomEvent)
            .where(RoomEvent.room_id == room_id, RoomEvent.type == "consultation")
            .order_by(RoomEvent.seq)
        )
        return [(row.op, row.actor_id, row.data) for row in rows]


async def seated(server: LiveServer, meeting_id: int) -> dict[int, tuple[str, int | None]]:
    async with server.state["sessionmaker"]() as session:
        rows = await session.scalars(
            select(MeetingPerson).where(MeetingPerson.meeting_id == meeting_id)
        )
        return {row.user_id: (row.role, row.side_group_id) for row in rows}


async def page_as(server: LiveServer, who: Person, path: str) -> str:
    async with client(server) as http:
        await http.login(who.user["email"])
        shown = await http.get(path)
        assert shown.status_code == 200, shown.text
        return shown.text


async def test_a_declined_consultation_shows_its_reason_to_both_sides_and_the_room(
    server: LiveServer, capture_events: EventCapture
) -> None:
    wg_chair, cs_lead, cs_member = await cast(server)
    made = await api(wg_chair, "POST", "/api/consultations", proposal(30))
    assert made.status_code == 201, made.text
    record = made.json()
    mid, room_id = record["id"], await room_of(server, record["id"])
    reason = "The caucus meets on the fund the same week."

    # Before the answer the host's chair names a delegation; the guest's coordinator answers.
    page = await page_as(server, wg_chair, f"/meetings/{mid}")
    assert f'id="delegation-{WG}"' in page and 'name="answer"' not in page
    page = await page_as(server, cs_lead, f"/meetings/{mid}")
    assert 'name="answer"' in page and 'value="counter"' in page

    async with peer(server, wg_chair) as chair_ws:
        assert (await chair_ws.join("remote", room=record["room"]))["type"] == "joined"
        async with capture_events(server, rooms=(room_id,), expected=1) as events:
            declined = await api(
                cs_lead,
                "POST",
                f"/api/consultations/{mid}/answer",
                {"answer": "decline", "reason": reason},
            )
        assert declined.status_code == 200, declined.text
        heard = await chair_ws.expect("consultation", op="decline")
    answer = declined.json()["consultation"]
    assert (answer["status"], answer["decline_reason"], answer["awaiting"]) == (
        "declined",
        reason,
        None,
    )
    [event] = events.events
    assert event["op"] == "decline" and event["consultation"]["decline_reason"] == reason
    assert heard["consultation"]["decline_reason"] == reason
    assert [
        (op, actor, data["consultation"]["status"])
        for op, actor, data in await logged(server, room_id)
    ] == [("propose", wg_chair.id, "proposed"), ("decline", cs_lead.id, "declined")]
    async with server.state["sessionmaker"]() as session:
        row = await session.get(Consultation, mid)
        assert row is not None and row.decided_at is not None
        assert (row.status, row.decline_reason) == ("declined", reason)
        # Its session will not be held: calendars learn it is off, with a new SEQUENCE.
        declined_session = await session.get(RoomSession, record["session"]["id"])
        assert declined_session is not None
        assert (declined_session.status, declined_session.sequence) == ("cancelled", 1)
    # Whoever answered chairs for their side.
    assert (await seated(server, mid))[cs_lead.id] == (
        "chair",
        record["consultation"]["guest"]["id"],
    )

    # Both sides, and a member, read the reason; no one may answer or name a delegation now.
    for who in (wg_chair, cs_lead, cs_member):
        page = await page_as(server, who, f"/meetings/{mid}")
        assert reason in page
        assert 'name="answer"' not in page and 'id="delegation-' not in page
        assert f"/meetings/{mid}/room" not in page

    before = await written(server)
    again = await api(cs_lead, "POST", f"/api/consultations/{mid}/answer", {"answer": "accept"})
    assert again.status_code == 409, again.text
    named = await api(
        wg_chair, "PUT", f"/api/consultations/{mid}/delegations/{WG}", {"delegates": []}
    )
    assert named.status_code == 409, named.text
    assert await written(server) == before


async def test_a_countered_consultation_once_accepted_moves_its_session(
    server: LiveServer, capture_events: EventCapture
) -> None:
    wg_chair, cs_lead, _member = await cast(server)
    made = await api(wg_chair, "POST", "/api/consultations", proposal(30))
    assert made.status_code == 201, made.text
    record = made.json()
    mid, room_id = record["id"], await room_of(server, record["id"])
    host_id, guest_id = record["consultation"]["host"]["id"], record["consultation"]["guest"]["id"]
    asked_start = datetime.fromisoformat(record["session"]["starts_at"])
    later = (utcnow() + timedelta(days=40)).replace(microsecond=0)

    before = await written(server)
    no_time = await api(cs_lead, "POST", f"/api/consultations/{mid}/answer", {"answer": "counter"})
    assert no_time.status_code == 422, no_time.text
    assert no_time.json()["error"]["field"] == "starts_at"
    assert await written(server) == before

    async with capture_events(server, rooms=(room_id,), expected=1) as events:
        countered = await api(
            cs_lead,
            "POST",
            f"/api/consultations/{mid}/answer",
            {"answer": "counter", "starts_at": later.isoformat(), "minutes": 45},
        )
    assert countered.status_code == 200, countered.text
    shown = countered.json()
    assert shown["consultation"]["status"] == "countered"
    assert shown["consultation"]["awaiting"] == host_id
    assert datetime.fromisoformat(shown["consultation"]["counter_starts_at"]) == later
    assert datetime.fromisoformat(shown["consultation"]["counter_ends_at"]) == later + timedelta(
        minutes=45
    )
    # Not moved yet: the host has not accepted the other time.
    assert datetime.fromisoformat(shown["session"]["starts_at"]) == asked_start
    assert [e["op"] for e in events.events] == ["counter"]
    assert (await seated(server, mid))[cs_lead.id] == ("chair", guest_id)

    # The host answers now: a counter to the counter is refused, and the guest may not answer.
    before = await written(server)
    twice = await api(
        wg_chair,
        "POST",
        f"/api/consultations/{mid}/answer",
        {"answer": "counter", "starts_at": later.isoformat(), "minutes": 30},
    )
    assert twice.status_code == 409, twice.text
    not_theirs = await api(
        cs_lead, "POST", f"/api/consultations/{mid}/answer", {"answer": "accept"}
    )
    assert not_theirs.json()["error"]["code"] == "not_consultation_chair"
    assert await written(server) == before

    # The host's chair, already named, accepts and stays its side's chair.
    async with capture_events(server, rooms=(room_id,), expected=1) as events:
        accepted = await api(
            wg_chair, "POST", f"/api/consultations/{mid}/answer", {"answer": "accept"}
        )
    assert accepted.status_code == 200, accepted.text
    shown = accepted.json()
    assert (shown["consultation"]["status"], shown["consultation"]["awaiting"]) == (
        "accepted",
        None,
    )
    assert datetime.fromisoformat(shown["session"]["starts_at"]) == later
    assert datetime.fromisoformat(shown["session"]["ends_at"]) == later + timedelta(minutes=45)
    assert [e["op"] for e in events.events] == ["accept"]
    assert await seated(server, mid) == {
        wg_chair.id: ("chair", host_id),
        cs_lead.id: ("chair", guest_id),
    }
    async with server.state["sessionmaker"]() as session:
        held = await session.get(RoomSession, record["session"]["id"])
        assert held is not None
        assert held.starts_at.replace(tzinfo=later.tzinfo) == later
        assert held.sequence == 1  # rescheduled: calendars take the new time
    assert [op for op, _actor, _data in await logged(server, room_id)] == [
        "propose",
        "counter",
        "accept",
    ]


async def test_an_unknown_answer_and_a_group_that_is_no_side_are_refused(
    server: LiveServer, capture_events: EventCapture
) -> None:
    wg_chair, cs_lead, _member = await cast(server)
    made = await api(wg_chair, "POST", "/api/consultations", proposal(30))
    assert made.status_code == 201, made.text
    mid, room_id = made.json()["id"], await room_of(server, made.json()["id"])

    before = await written(server)
    async with capture_events(server, rooms=(room_id,), expected=0):
        # The page's form takes any word: only the three answers are answers.
        async with client(server, headers={"Origin": server.origin}) as http:
            await http.login(cs_lead.user["email"])
            page = await http.get(f"/meetings/{mid}")
            refused = await http.post(
                f"/meetings/{mid}/answer",
                data={"csrf_token": token_in(page.text), "answer": "maybe"},
            )
        assert refused.status_code == 422, refused.text
        assert "Accept, decline or propose another time." in refused.text
        # A group that exists but is neither side of the consultation.
        other = await api(
            wg_chair,
            "PUT",
            f"/api/consultations/{mid}/delegations/sc2-infrastructure",
            {"delegates": []},
        )
        assert other.status_code == 422, other.text
        assert other.json()["error"]["field"] == "side"
        assert other.json()["error"]["message"] == "That group is not a side of this consultation."
    assert await written(server) == before
