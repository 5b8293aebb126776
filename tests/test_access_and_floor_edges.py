"""The edges of access windows and of the floor, on a real server: a session or a window
named under another room's path, a window removed by someone who is not the chair, the
end of a window found a second time (by another worker's clock) or after its window is
gone, a window's end that leaves in place the people whose standing seats them anyway,
a speaker of unknown country taking a turn, and the chair resuming with nobody on the
floor."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from forum.actions.access_windows import do_end_window
from forum.actions.room_reads import room_for
from forum.db.models import AccessWindow, RoomEvent, RoomSession, User
from forum.domain import floor
from forum.errors import ErrorCode, ForumError
from tests.factory import GROUP
from tests.people import api, person
from tests.rooms_support import peer, peers, schedule_and_open, seated
from tests.support import LiveServer, WallClock
from tests.test_ws_access import PLENARY, count, last_15_minutes, plenary_session_of


async def written(server: LiveServer) -> tuple[int, int, str]:
    """Room events, windows and the sessions' budgets: what a refusal leaves as it was."""
    async with server.state["sessionmaker"]() as session:
        budgets = (await session.scalars(select(RoomSession.family_budgets))).all()
    return await count(server, RoomEvent), await count(server, AccessWindow), repr(budgets)


async def test_a_session_or_window_of_another_room_is_not_found_and_nothing_is_written(
    server: LiveServer, window_clock: WallClock
) -> None:
    plenary_chair = await person(server, family="civil_society", role="chair", group=PLENARY)
    wgig_chair = await person(server, role="chair", group=GROUP)
    wgig = await plenary_session_of(wgig_chair, window_clock, GROUP)
    made = await api(
        wgig_chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions/{wgig['id']}/windows",
        {"minutes_before_end": 15, "length_minutes": 15, "families": ["civil_society"]},
    )
    assert made.status_code == 201, made.text
    before = await written(server)
    async with peer(server, plenary_chair) as c:
        await c.join("participant", room=PLENARY)
        # The chair of the plenary names the working group's session and window.
        window = await last_15_minutes(plenary_chair, wgig["id"])
        assert window.status_code == 404
        assert window.json()["error"]["message"] == "No such session in this room."
        removed = await api(
            plenary_chair, "DELETE", f"/api/rooms/{PLENARY}/windows/{made.json()['id']}"
        )
        assert removed.status_code == 404
        assert removed.json()["error"]["message"] == "No such window in this room."
        budgets = await api(
            plenary_chair,
            "PUT",
            f"/api/rooms/{PLENARY}/sessions/{wgig['id']}/budgets",
            {"budgets": {"government": 60}},
        )
        assert budgets.status_code == 404
        assert budgets.json()["error"]["message"] == "No such session in this room."
        # In French too, for a reader who asks for it.
        async with plenary_chair.client() as http:
            french = await http.put(
                f"/api/rooms/{PLENARY}/sessions/{wgig['id']}/budgets",
                json={"budgets": {"government": 60}},
                headers={"Accept-Language": "fr"},
            )
        assert french.status_code == 404
        assert french.json()["error"]["message"] != "No such session in this room."
        # Nothing published to the plenary: the next frame answers a ping.
        assert (await c.call({"type": "ping"}))["type"] == "pong"
        assert [e for e in c.events() if "seq" in e] == []
    assert await written(server) == before
    listed = await api(wgig_chair, "GET", f"/api/rooms/{GROUP}/sessions/{wgig['id']}/windows")
    assert [w["id"] for w in listed.json()["windows"]] == [made.json()["id"]]


async def test_only_the_chair_removes_a_window(server: LiveServer, window_clock: WallClock) -> None:
    chair = await person(server, family="civil_society", role="chair", group=PLENARY)
    member = await person(server, family="civil_society", role="member", group=PLENARY)
    session = await plenary_session_of(chair, window_clock, PLENARY)
    window = (await last_15_minutes(chair, session["id"])).json()
    before = await written(server)
    refused = await api(member, "DELETE", f"/api/rooms/{PLENARY}/windows/{window['id']}")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert await written(server) == before
    listed = await api(member, "GET", f"/api/rooms/{PLENARY}/sessions/{session['id']}/windows")
    assert [w["id"] for w in listed.json()["windows"]] == [window["id"]]


async def test_a_window_ended_once_is_not_ended_again_and_a_gone_one_not_at_all(
    server: LiveServer, window_clock: WallClock
) -> None:
    chair = await person(server, family="civil_society", role="chair", group=PLENARY)
    session = await plenary_session_of(chair, window_clock, PLENARY)
    window = (await last_15_minutes(chair, session["id"])).json()
    removable = (await last_15_minutes(chair, session["id"], length_minutes=5)).json()
    assert (
        await api(chair, "DELETE", f"/api/rooms/{PLENARY}/windows/{removable['id']}")
    ).is_success
    async with peer(server, chair) as c:
        await c.join("participant", room=PLENARY)
        window_clock.now = datetime.fromisoformat(session["ends_at"]) + timedelta(seconds=1)
        ended = await c.expect("window", op="end", wait=5)
        assert ended["window"] == window["id"] and ended["moved"] == []
        events = await count(server, RoomEvent)
        # Another worker's clock finds the same window: it is already over.
        maker, broker = server.state["sessionmaker"], server.state["broker"]
        async with maker() as db:
            assert await do_end_window(db, broker, window["id"]) is False
        # And the removed window, whose row (and room) it no longer finds.
        async with maker() as db:
            assert await do_end_window(db, broker, removable["id"]) is False
        assert (await c.call({"type": "ping"}))["type"] == "pong"
        assert [e for e in c.events() if e["type"] == "window" and e["op"] == "end"] == [ended]
    assert await count(server, RoomEvent) == events


async def test_the_end_of_a_window_leaves_those_their_standing_seats(
    server: LiveServer, window_clock: WallClock
) -> None:
    chair = await person(server, family="civil_society", role="chair", group=PLENARY)
    # A government delegate who is also a member of the plenary: the window admits her,
    # but her membership already gives her the seat she holds.
    member = await person(
        server, family="government", role="member", group=PLENARY, name="Member Ines"
    )
    guest = await person(server, family="government", name="Guest Omar")
    session = await plenary_session_of(chair, window_clock, PLENARY)
    window = (await last_15_minutes(chair, session["id"])).json()
    ends_at = datetime.fromisoformat(window["ends_at"])
    window_clock.now = ends_at - timedelta(minutes=5)
    async with peers(server, chair, member, guest) as (c, m, g):
        for p in (c, m, g):
            joined = await p.join("participant", room=PLENARY)
            assert joined["seat"] == "participant", joined
        window_clock.now = ends_at + timedelta(seconds=1)
        ended = await c.expect("window", op="end", wait=5)
        assert ended["moved"] == [{"user_id": guest.id, "name": "Guest Omar", "seat": "observer"}]
        assert (await g.expect("seat", reason="window"))["seat"] == "observer"
        # The member keeps her seat and her word.
        assert (await m.call({"type": "raise_hand"}))["type"] == "ack"
        assert [e for e in m.events() if e["type"] in ("seat", "left")] == []
    async with server.state["sessionmaker"]() as db:
        ends = await db.scalar(
            select(func.count())
            .select_from(RoomEvent)
            .where(RoomEvent.type == "window", RoomEvent.op == "end")
        )
    assert ends == 1


async def tally(server: LiveServer) -> dict[str, Any]:
    async with server.state["sessionmaker"]() as db:
        _, row = await room_for(db, GROUP)
        return dict(row.floor_tally or {})


async def test_a_speaker_of_unknown_country_counts_on_neither_side(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair Markus", country="CH")
    ama = await person(server, role="member", name="Ama", country="GH")
    old = await person(server, role="member", name="Dragan")
    # An account from before the list of countries, with a code it no longer holds.
    async with server.state["sessionmaker"]() as db, db.begin():
        await db.execute(update(User).where(User.id == old.id).values(country="YU"))
    await schedule_and_open(chair, fmt="open_debate")
    async with peers(server, chair, ama, old) as (c, a, d):
        await seated((c, "participant"), (a, "remote"), (d, "participant"))
        assert (await d.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await c.call({"type": "give_floor", "user_id": old.id}))["type"] == "ack"
        assert (await a.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await c.call({"type": "give_floor", "user_id": ama.id}))["type"] == "ack"
        ref = await c.send({"type": "get_equity"})
        live = (await c.expect("equity", ref=ref))["equity"]
    assert (await tally(server))["sides"] == {"south": 1}
    by_side = {side: row["turns"] for side, row in live["by_side"].items() if row["turns"]}
    assert by_side == {"south": 1, "unknown": 1}


def test_the_chair_resumes_nobody_when_nobody_holds_the_floor() -> None:
    with pytest.raises(ForumError) as refused:
        floor.check_resume(is_chair=True, turn=None)
    assert refused.value.code is ErrorCode.CONFLICT
    assert refused.value.message == "Nobody holds the floor."
