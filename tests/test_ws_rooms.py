"""The live room end to end: a real uvicorn server and real `websockets` clients."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import func, select

from forum.db.models import RoomEvent
from tests.factory import GROUP
from tests.people import api, person
from tests.rooms_support import peer, schedule_and_open
from tests.support import LiveServer, client


async def event_count(server: LiveServer) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(RoomEvent)) or 0)


async def test_a_session_with_four_stakeholders(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair Markus")
    remote = await person(server, role="member", name="Remote Ama")
    business = await person(server, family="private_sector", role="member", name="Biz Kim")
    observer = await person(server, family="civil_society", name="Observer Rosa")
    second_observer = await person(server, family="civil_society", name="Observer Two")
    await schedule_and_open(chair)

    async with (
        peer(server, chair) as c,
        peer(server, remote) as r,
        peer(server, business) as b,
        peer(server, observer) as o,
        peer(server, second_observer) as o2,
    ):
        joined = await c.join("participant")
        assert joined["type"] == "joined"
        assert joined["state"]["session"]["status"] == "open"
        assert (await r.join("remote"))["seat"] == "remote"
        assert (await b.join("participant"))["type"] == "joined"
        assert (await o.join("observer"))["seat"] == "observer"
        # The one civil society observer seat is taken: a clear refusal, still connected.
        refused = await o2.join("observer")
        assert refused["type"] == "error" and refused["code"] == "no_seat_available"
        assert (await o2.call({"type": "ping"}))["type"] == "pong"

        # Everyone sees everyone, with flags for remote participants and observers.
        state = await api(chair, "GET", f"/api/rooms/{GROUP}")
        people = {p["user_id"]: p for p in state.json()["presence"]["users"]}
        assert set(people) == {chair.id, remote.id, business.id, observer.id}
        assert people[remote.id]["remote"] and people[observer.id]["observer"]
        assert people[observer.id]["family"] == "civil_society"

        # Observers cannot raise a hand or speak: error frame, connection stays open.
        before = await event_count(server)
        for frame in ({"type": "raise_hand"}, {"type": "speak", "body": "May I?"}):
            answer = await o.call(frame)
            assert answer["code"] == "observer_cannot_speak"
        assert await event_count(server) == before
        assert (await o.call({"type": "ping"}))["type"] == "pong"

        # Hands: the government member first, then private sector.
        assert (await r.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await b.call({"type": "raise_hand"}))["type"] == "ack"
        raised = await o.expect("queue", op="raise", user_id=business.id)
        assert [e["user_id"] for e in raised["queue"]] == [remote.id, business.id]

        # First come, first served: the remote participant gets the floor.
        given = await c.call({"type": "give_floor", "limit_s": 120})
        assert given["type"] == "ack"
        floor = await o.expect("floor", op="give")
        assert floor["floor"]["user_id"] == remote.id and floor["floor"]["limit_s"] == 120
        # Only the floor holder (and the chair) speaks in a statements session.
        refused = await b.call({"type": "speak", "body": "Out of turn"})
        assert refused["code"] == "floor_held"
        said = await r.call({"type": "speak", "body": "Our statement on C7."})
        assert said["type"] == "ack"
        heard = await o.expect("intervention", op="post", user_id=remote.id)
        assert heard["body"] == "Our statement on C7." and heard["seat"] == "remote"

        # Rotation: government has spoken once; raise another government hand before
        # the private sector one and still the private sector is called first.
        assert (await c.call({"type": "take_floor"}))["type"] == "ack"
        assert (await c.call({"type": "set_policy", "policy": "rotation"}))["type"] == "ack"
        assert (await r.call({"type": "raise_hand"}))["type"] == "ack"
        queue = (await c.expect("queue", op="raise", user_id=remote.id))["queue"]
        assert [e["user_id"] for e in queue] == [business.id, remote.id]
        assert (await c.call({"type": "give_floor"}))["type"] == "ack"
        floor = await o.expect("floor", op="give")
        assert floor["floor"]["user_id"] == business.id
        assert floor["spoken"] == {"government": 1, "private_sector": 1}
        assert (await b.call({"type": "speak", "body": "Industry view."}))["type"] == "ack"
        assert (await c.call({"type": "take_floor"}))["type"] == "ack"
        taken = await o.expect("floor", op="take")
        assert taken["floor"] is None and taken["reason"] == "chair"

    # Close; the transcript is public, to people without an account.
    sessions = (await api(chair, "GET", f"/api/rooms/{GROUP}/sessions")).json()["sessions"]
    closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{sessions[0]['id']}/close")
    assert closed.status_code == 200
    async with client(server) as anonymous:
        document = (await anonymous.get(f"/api/sessions/{sessions[0]['id']}/transcript")).json()
        bodies = [e["body"] for e in document["events"] if e["type"] == "intervention"]
        assert bodies == ["Our statement on C7.", "Industry view."]
        gives = [
            e["user_id"] for e in document["events"] if e["type"] == "floor" and e["op"] == "give"
        ]
        assert gives == [remote.id, business.id]
        assert document["attendance"]["by_family"] == {
            "government": {"participant": 1, "remote": 1},
            "private_sector": {"participant": 1},
            "civil_society": {"observer": 1},
        }
        page = await anonymous.get(f"/sessions/{sessions[0]['id']}/transcript")
        assert page.status_code == 200
        assert "Industry view." in page.text and "Remote Ama" in page.text
        # The page's own scripts only: its catalog (data) and locale.js.
        assert page.text.count("<script") == 2
        assert '<script type="application/json" id="forum-i18n">' in page.text
        assert re.search(r'<script type="module" src="/static/locale[.\w]*js"></script>', page.text)


async def test_resume_after_a_cut_has_no_gap_and_no_duplicate(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    await schedule_and_open(chair, fmt="open_debate")
    async with peer(server, chair) as c:
        await c.join("participant")
        async with peer(server, member) as m:
            joined = await m.join("remote")
            seen = [joined["seq"]]
            for n in range(3):
                await c.call({"type": "speak", "body": f"before {n}"})
                seen.append((await m.expect("intervention", body=f"before {n}"))["seq"])
            last = seen[-1]
        # The member is cut off; the room goes on.
        for n in range(5):
            await c.call({"type": "speak", "body": f"missed {n}"})
        async with peer(server, member) as m:
            resumed = await m.join("remote", since=last)
            assert resumed["state"] is None and resumed["replay"] == 5
            replayed = [await m.expect("intervention") for _ in range(5)]
            assert [f["body"] for f in replayed] == [f"missed {n}" for n in range(5)]
            await c.call({"type": "speak", "body": "live"})
            live = await m.expect("intervention", body="live")
            seqs = [f["seq"] for f in replayed] + [live["seq"]]
            assert seqs == list(range(last + 1, last + 7))
            await asyncio.sleep(0.2)
            bodies = [f["body"] for f in m.seen if f.get("type") == "intervention"]
            assert bodies == [f"missed {n}" for n in range(5)] + ["live"]


async def test_each_join_shows_who_is_in_the_room_as_people_come_and_go(
    server: LiveServer,
) -> None:
    """The presence a join brings stays true whether it is read from the database or
    from the snapshot an earlier join here read at the same version."""
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    late = await person(server, role="member")

    def shown(joined: dict[str, Any]) -> dict[int, str]:
        return {u["user_id"]: u["seat"] for u in joined["presence"]["users"]}

    async def gone(user_id: int) -> None:
        for _ in range(200):
            state = await api(chair, "GET", f"/api/rooms/{GROUP}")
            if user_id not in {u["user_id"] for u in state.json()["presence"]["users"]}:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{user_id} is still shown in the room")

    async with peer(server, chair) as c:
        assert shown(await c.join("participant")) == {chair.id: "participant"}
        async with peer(server, member) as m:
            first = await m.join("remote")
            assert shown(first) == {chair.id: "participant", member.id: "remote"}
            # A second screen on the same seat changes nothing anyone sees.
            async with peer(server, member) as screen:
                again = await screen.join("remote")
                assert again["presence"] == first["presence"]
            # On another seat it does.
            async with peer(server, member) as screen:
                moved = await screen.join("participant")
                assert shown(moved)[member.id] == "participant"
                assert moved["presence"]["ver"] > first["presence"]["ver"]
        await gone(member.id)
        async with peer(server, late) as newcomer:
            joined = await newcomer.join("remote")
            assert shown(joined) == {chair.id: "participant", late.id: "remote"}
        await gone(late.id)
        async with peer(server, member) as back:
            returned = await back.join("remote")
            assert shown(returned) == {chair.id: "participant", member.id: "remote"}
