"""The floor as parliaments run it, end to end on a real server with real `websockets`
clients: a point of order taken ahead of the queue and shown as such, notes on
requests to speak, the speaker's clock paused and resumed with the time left kept,
a family that runs out of its speaking-time budget, and the equity figures matching
the turns given, live for the chair, on the transcript and over a period. Refusals
write nothing and publish nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from forum.db.models import RoomEvent, RoomSession
from tests.factory import GROUP
from tests.people import Person, api, person
from tests.rooms_support import SITTING, Peer, peer, peers, schedule_and_open, seated, seen_upto
from tests.support import LiveServer


async def written(server: LiveServer) -> tuple[int, str]:
    """Room events stored and the sessions' budgets: what a refusal leaves as it was."""
    async with server.state["sessionmaker"]() as session:
        events = await session.scalar(select(func.count()).select_from(RoomEvent))
        budgets = (await session.scalars(select(RoomSession.family_budgets))).all()
    return int(events or 0), repr(budgets)


async def quiet(p: Peer, wait: float = 0.4) -> None:
    """No room event reaches `p` for `wait` seconds (presence may)."""
    deadline = asyncio.get_running_loop().time() + wait
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            frame = await p.next(left)
        except TimeoutError:
            return
        assert "seq" not in frame, f"unexpected event {frame}"


async def delegates(server: LiveServer, *countries: str) -> tuple[Person, ...]:
    """A chair, a member, a private-sector member and a civil-society observer, from
    `countries` in that order."""
    chair, ama, kim, rosa = countries
    return (
        await person(server, role="chair", name="Chair Markus", country=chair),
        await person(server, role="member", name="Ama", country=ama),
        await person(server, family="private_sector", role="member", name="Kim", country=kim),
        await person(server, family="civil_society", name="Observer Rosa", country=rosa),
    )


async def test_a_point_of_order_jumps_the_queue_and_notes_are_shown(server: LiveServer) -> None:
    chair, ama, kim, rosa = await delegates(server, "CH", "GH", "DE", "KE")
    await schedule_and_open(chair)
    async with peers(server, chair, ama, kim, rosa, None) as (c, a, k, o, s):
        await seated((c, "participant"), (a, "remote"), (k, "participant"), (o, "observer"))
        assert (await s.join("spectator"))["seat"] == "spectator"

        assert (await a.call({"type": "raise_hand", "note": "pro"}))["type"] == "ack"
        raised = await s.expect("queue", op="raise", user_id=ama.id)
        assert raised["queue"][0]["note"] == "pro"
        assert raised["queue"][0]["point_of_order"] is False

        # Refused, each with its code: nothing written, nothing sent to the room.
        before = await written(server)
        refused = await o.call({"type": "raise_hand", "point_of_order": True})
        assert refused["type"] == "error" and refused["code"] == "observer_cannot_speak"
        assert "point of order" in refused["message"]
        wrong = await k.call({"type": "raise_hand", "note": "maybe"})
        assert wrong["code"] == "validation_error" and wrong["field"] == "note"
        not_bool = await k.call({"type": "raise_hand", "point_of_order": "yes"})
        assert not_bool["code"] == "validation_error"
        paused = await c.call({"type": "pause_floor"})
        assert paused["code"] == "conflict"
        assert (await written(server)) == before
        await quiet(s)

        # Kim raises a point of order after Ama's request: it is called first.
        assert (await k.call({"type": "raise_hand", "point_of_order": True}))["type"] == "ack"
        queued = await s.expect("queue", op="raise", user_id=kim.id)
        assert [(e["user_id"], e["point_of_order"]) for e in queued["queue"]] == [
            (kim.id, True),
            (ama.id, False),
        ]
        # So it is under rotation, whatever the counts.
        assert (await c.call({"type": "set_policy", "policy": "rotation"}))["type"] == "ack"
        policy = await s.expect("room", op="policy")
        assert policy["queue"][0]["user_id"] == kim.id

        ack = await c.call({"type": "give_floor"})
        given = await s.expect("floor", op="give", seq=ack["seq"])
        assert given["floor"]["user_id"] == kim.id and given["floor"]["point_of_order"] is True
        # Procedural: it does not count in the rotation.
        assert given["spoken"] == {}
        assert [e["user_id"] for e in given["queue"]] == [ama.id]

        ack = await c.call({"type": "give_floor"})
        given = await s.expect("floor", op="give", seq=ack["seq"])
        assert given["floor"]["user_id"] == ama.id and given["note"] == "pro"
        assert given["ended"]["user_id"] == kim.id and given["ended"]["point_of_order"] is True
        assert given["spoken"] == {"government": 1}

        # A reader of the room state finds the same.
        state = (await api(chair, "GET", f"/api/rooms/{GROUP}")).json()
        assert state["floor"]["user_id"] == ama.id and state["floor"]["point_of_order"] is False


async def test_the_chair_pauses_and_resumes_keeping_the_time_left(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair Markus")
    ama = await person(server, role="member", name="Ama")
    member = await person(server, role="member", name="Lee")
    await schedule_and_open(chair)
    async with peers(server, chair, ama, None) as (c, a, s):
        await seated((c, "participant"), (a, "remote"), (s, "spectator"))
        assert (await a.call({"type": "raise_hand"}))["type"] == "ack"
        ack = await c.call({"type": "give_floor", "limit_s": 3})
        given = await s.expect("floor", op="give", seq=ack["seq"])
        started = datetime.fromisoformat(given["floor"]["started_at"])
        await asyncio.sleep(1.0)

        async with peer(server, member) as m:
            assert (await m.join("participant"))["type"] == "joined"
            refused = await m.call({"type": "pause_floor"})
            assert refused["code"] == "forbidden"

        ack = await c.call({"type": "pause_floor"})
        paused = await s.expect("floor", op="pause", seq=ack["seq"])
        assert paused["floor"]["paused_at"] is not None and paused["floor"]["ends_at"] is None
        assert paused["floor"]["left_s"] in (1, 2)
        again = await c.call({"type": "pause_floor"})
        assert again["code"] == "conflict"

        # Past the turn's first end: paused, it does not run out.
        await asyncio.sleep(3.0)
        assert not [f for f in s.events() if f["type"] == "floor" and f["op"] == "take"]
        state = (await api(chair, "GET", f"/api/rooms/{GROUP}")).json()
        assert state["floor"]["user_id"] == ama.id

        ack = await c.call({"type": "resume_floor"})
        resumed = await s.expect("floor", op="resume", seq=ack["seq"])
        ends_at = datetime.fromisoformat(resumed["floor"]["ends_at"])
        resumed_at = datetime.fromisoformat(resumed["at"])
        left = (ends_at - resumed_at).total_seconds()
        assert 1.0 <= left <= 2.5, left
        assert (ends_at - started).total_seconds() > 6
        # The timer was set again for the time kept: the turn runs out by itself.
        taken = await s.expect("floor", op="take", wait=6)
        assert taken["reason"] == "expired"
        assert taken["ended"]["user_id"] == ama.id and taken["ended"]["spoken_s"] == 3
        assert (await c.call({"type": "resume_floor"}))["code"] == "conflict"


async def test_a_family_that_runs_out_of_its_time_is_passed_over(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair Markus")
    ama = await person(server, role="member", name="Ama")
    lee = await person(server, role="member", name="Lee")
    rosa = await person(server, family="civil_society", role="member", name="Rosa")
    created = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions", SITTING)
    sid = created.json()["id"]
    path = f"/api/rooms/{GROUP}/sessions/{sid}/budgets"

    # Refused: budgets the three-hour session cannot hold, a family that does not
    # exist, a budget from someone not the chair. Nothing written.
    before = await written(server)
    too_long = await api(
        chair, "PUT", path, {"budgets": {"government": 10_000, "civil_society": 900}}
    )
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "budget_exceeds_session"
    assert "180 minutes" in too_long.json()["error"]["message"]
    unknown = await api(chair, "PUT", path, {"budgets": {"press": 60}})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "validation_error"
    zero = await api(chair, "PUT", path, {"budgets": {"government": 0}})
    assert zero.status_code == 422 and zero.json()["error"]["field"] == "budgets.government"
    member = await api(ama, "PUT", path, {"budgets": {"government": 60}})
    assert member.status_code == 403
    assert (await written(server)) == before

    ok = await api(chair, "PUT", path, {"budgets": {"government": 2, "civil_society": 600}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["family_budgets"] == {"government": 2, "civil_society": 600}
    assert (await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{sid}/open")).is_success

    async with peers(server, chair, ama, lee, rosa, None) as (c, a, le, r, s):
        await seated(*((p, "participant") for p in (c, a, le, r)))
        joined = await s.join("spectator")
        assert joined["type"] == "joined"
        state = (await api(chair, "GET", f"/api/rooms/{GROUP}")).json()
        assert state["budgets"]["government"] == {"budget_s": 2, "used_s": 0, "left_s": 2}

        assert (await a.call({"type": "raise_hand"}))["type"] == "ack"
        # Asked for a minute, Ama's turn is cut to her family's two seconds.
        ack = await c.call({"type": "give_floor", "limit_s": 60})
        given = await s.expect("floor", op="give", seq=ack["seq"])
        assert given["floor"]["limit_s"] == 2
        taken = await s.expect("floor", op="take", wait=5)
        assert taken["reason"] == "expired"
        assert taken["budgets"]["government"] == {"budget_s": 2, "used_s": 2, "left_s": 0}

        # Lee (government) raised a hand before Rosa (civil society): passed over.
        assert (await le.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await r.call({"type": "raise_hand"}))["type"] == "ack"
        queued = await s.expect("queue", op="raise", user_id=rosa.id)
        assert [(e["user_id"], e["out_of_time"]) for e in queued["queue"]] == [
            (rosa.id, False),
            (lee.id, True),
        ]
        before = await written(server)
        by_name = await c.call({"type": "give_floor", "user_id": lee.id})
        assert by_name["code"] == "family_time_exhausted"
        assert (await written(server)) == before
        ack = await c.call({"type": "give_floor"})
        given = await s.expect("floor", op="give", seq=ack["seq"])
        assert given["floor"]["user_id"] == rosa.id
        assert (await c.call({"type": "take_floor"}))["type"] == "ack"
        # Only Lee waits: nobody the policy may call.
        nobody = await c.call({"type": "give_floor"})
        assert nobody["code"] == "family_time_exhausted"
        # Lee may still raise a point of order, and has the floor for it.
        assert (await le.call({"type": "lower_hand"}))["type"] == "ack"
        assert (await le.call({"type": "raise_hand", "point_of_order": True}))["type"] == "ack"
        ack = await c.call({"type": "give_floor"})
        given = await s.expect("floor", op="give", seq=ack["seq"])
        assert given["floor"]["user_id"] == lee.id and given["floor"]["limit_s"] is None

        # The chair gives the family more time: the room sees it.
        more = await api(chair, "PUT", path, {"budgets": {"government": 120, "civil_society": 600}})
        assert more.status_code == 200
        changed = await s.expect("floor", op="budgets")
        assert changed["budgets"]["government"]["left_s"] == 118


def _expected(frames: list[dict[str, Any]], sides: dict[int, str]) -> dict[str, Any]:
    """Turns and interventions counted from the events a spectator saw."""
    turns: dict[str, int] = {}
    by_side: dict[str, int] = {}
    written_by: dict[str, int] = {}
    seconds = 0
    for f in frames:
        if f["type"] == "floor" and f["op"] in ("give", "voice"):
            family = f["floor"]["family"] if f["op"] == "give" else f["family"]
            who = f["floor"]["user_id"] if f["op"] == "give" else f["user_id"]
            turns[family] = turns.get(family, 0) + 1
            by_side[sides[who]] = by_side.get(sides[who], 0) + 1
            seconds += f.get("duration_s") or 0
        if f["type"] == "intervention":
            written_by[f["family"]] = written_by.get(f["family"], 0) + 1
        if f.get("ended"):
            seconds += f["ended"]["spoken_s"]
    return {"turns": turns, "sides": by_side, "written": written_by, "seconds": seconds}


async def test_equity_figures_match_the_turns_given(server: LiveServer) -> None:
    chair, ama, kim, rosa = await delegates(server, "FR", "GH", "JP", "BR")
    opened = await schedule_and_open(chair, fmt="open_debate")
    sides = {chair.id: "north", ama.id: "south", kim.id: "north"}
    async with peers(server, chair, ama, kim, rosa, None) as (c, a, k, o, s):
        await seated(
            (c, "participant"), (a, "remote"), (k, "participant"), (o, "observer"), (s, "spectator")
        )
        start = asyncio.get_running_loop().time()
        assert (await a.call({"type": "raise_hand", "note": "question"}))["type"] == "ack"
        assert (await k.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await c.call({"type": "give_floor", "limit_s": 1}))["type"] == "ack"
        await s.expect("floor", op="take", wait=5)
        assert (await c.call({"type": "give_floor"}))["type"] == "ack"
        assert (await k.call({"type": "speak", "body": "On financing, two points."}))[
            "type"
        ] == "ack"
        assert (await a.call({"type": "speak", "body": "A question on ICT4D."}))["type"] == "ack"
        # The observer writes nothing; the refusal is not counted.
        assert (await o.call({"type": "speak", "body": "Me too"}))[
            "code"
        ] == "observer_cannot_speak"
        await asyncio.sleep(0.5)
        assert (await a.call({"type": "raise_hand", "point_of_order": True}))["type"] == "ack"
        assert (await c.call({"type": "give_floor"}))["type"] == "ack"
        assert (await c.call({"type": "take_floor"}))["type"] == "ack"
        voice = await c.call({"type": "voice_turn", "user_id": kim.id, "duration_s": 30})
        assert voice["type"] == "ack"
        await seen_upto(s, voice["seq"])
        elapsed = asyncio.get_running_loop().time() - start

        # Live, for the chair; anyone else is refused.
        ref = await c.send({"type": "get_equity"})
        live = await c.expect("equity", ref=ref)
        refused = await a.call({"type": "get_equity"})
        assert refused["code"] == "forbidden"
        seen = _expected(s.events(), sides)
        figures = live["equity"]
        assert {f: row["turns"] for f, row in figures["by_family"].items() if row["turns"]} == seen[
            "turns"
        ]
        assert {k: row["turns"] for k, row in figures["by_side"].items() if row["turns"]} == seen[
            "sides"
        ]
        assert {
            f: row["interventions"]
            for f, row in figures["by_family"].items()
            if row["interventions"]
        } == seen["written"]
        assert figures["by_family"]["government"]["points_of_order"] == 1
        assert figures["by_family"]["civil_society"] == {
            "turns": 0,
            "points_of_order": 0,
            "speaking_s": 0,
            "interventions": 0,
        }
        assert figures["total"]["speaking_s"] == seen["seconds"]
        # 30 s by voice, the rest spoken in the room while the test ran.
        assert 30 + 1 <= figures["total"]["speaking_s"] <= 30 + elapsed + 1
        assert figures["total"]["turns"] == 4
        page = (await api(chair, "GET", f"/api/rooms/{GROUP}/equity/live")).json()
        assert page["equity"] == figures

        closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{opened['id']}/close")
        assert closed.is_success
    transcript = (await api(chair, "GET", f"/api/sessions/{opened['id']}/transcript")).json()
    assert transcript["equity"] == figures
    period = await api(chair, "GET", f"/api/rooms/{GROUP}/equity?from=2000-01-01&to=2100-01-01")
    assert period.status_code == 422 and period.json()["error"]["field"] == "to"
    today = datetime.now(UTC).date().isoformat()
    period = await api(chair, "GET", f"/api/rooms/{GROUP}/equity?from={today}&to={today}")
    assert period.status_code == 200, period.text
    assert [item["id"] for item in period.json()["sessions"]] == [opened["id"]]
    assert period.json()["equity"]["by_family"] == figures["by_family"]
    bad = await api(chair, "GET", f"/api/rooms/{GROUP}/equity?from=16-11-2005")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "from"


async def test_a_timed_turn_runs_out_whatever_is_scheduled_meanwhile(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair Markus")
    ama = await person(server, role="member", name="Ama")
    opened = await schedule_and_open(chair)
    async with peers(server, chair, ama, None) as (c, a, s):
        await seated((c, "participant"), (a, "remote"), (s, "spectator"))
        assert (await a.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await c.call({"type": "give_floor", "limit_s": 2}))["type"] == "ack"
        # Another session scheduled while Ama speaks: her time still runs out.
        later = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions", SITTING)
        assert later.status_code == 201
        await s.expect("session", op="schedule")
        taken = await s.expect("floor", op="take", wait=5)
        assert taken["reason"] == "expired"
        # And budgets set for that session while she speaks again.
        assert (await a.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await c.call({"type": "give_floor", "limit_s": 2}))["type"] == "ack"
        path = f"/api/rooms/{GROUP}/sessions/{later.json()['id']}/budgets"
        assert (await api(chair, "PUT", path, {"budgets": {"government": 60}})).is_success
        budgets = await s.expect("floor", op="budgets")
        assert "budgets" not in budgets and budgets["floor"]["user_id"] == ama.id
        taken = await s.expect("floor", op="take", wait=5)
        assert taken["reason"] == "expired"
        assert opened["id"] != later.json()["id"]


async def test_rotation_weighs_north_and_south_as_well_as_families(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair Markus", country="CH")
    paris = await person(server, role="member", name="Paris", country="FR")
    berlin = await person(
        server, family="civil_society", role="member", name="Berlin", country="DE"
    )
    recife = await person(
        server, family="civil_society", role="member", name="Recife", country="BR"
    )
    await schedule_and_open(chair)
    async with peers(server, chair, paris, berlin, recife, None) as (c, p, b, r, s):
        await seated(*((who, "participant") for who in (c, p, b, r)), (s, "spectator"))
        assert (await c.call({"type": "set_policy", "policy": "rotation_regions"}))["type"] == "ack"
        for who in (p, b, r):
            assert (await who.call({"type": "raise_hand"}))["type"] == "ack"
        queued = await s.expect("queue", op="raise", user_id=recife.id)
        # Shown in the order it would be called, each request with its north or south.
        assert [(e["user_id"], e["region_side"]) for e in queued["queue"]] == [
            (paris.id, "north"),
            (recife.id, "south"),
            (berlin.id, "north"),
        ]
        ack = await c.call({"type": "give_floor"})
        first = await s.expect("floor", op="give", seq=ack["seq"])
        assert first["floor"]["user_id"] == paris.id
        # Civil society has not spoken, nor has the south: Recife before Berlin, who
        # raised a hand first and would be next under the rotation across families.
        assert [e["user_id"] for e in first["queue"]] == [recife.id, berlin.id]
        ack = await c.call({"type": "give_floor"})
        second = await s.expect("floor", op="give", seq=ack["seq"])
        assert second["floor"]["user_id"] == recife.id
