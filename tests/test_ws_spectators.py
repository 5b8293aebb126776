"""Signed-out spectators, seat changes and the chair's frames of the live page, over a
real server and real `websockets` clients."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from forum.db.models import Presence, Room, RoomEvent, Spectator
from tests.factory import GROUP
from tests.people import api, person
from tests.rooms_support import Peer, peer, schedule_and_open
from tests.support import LiveServer


async def room_rows(server: LiveServer) -> dict[str, Any]:
    """What a refused frame must leave as it was: events, seats, spectators, versions."""
    async with server.state["sessionmaker"]() as session:
        room = (await session.execute(select(Room.last_seq, Room.presence_ver, Room.queue))).all()
        return {
            "rooms": room,
            "events": await session.scalar(select(func.count()).select_from(RoomEvent)),
            "presence": (
                await session.execute(
                    select(Presence.id, Presence.user_id, Presence.seat).order_by(Presence.id)
                )
            ).all(),
            "spectators": (await session.execute(select(Spectator.id))).scalars().all(),
        }


async def spectators_seen(p: Peer, count: int) -> None:
    """Wait for a presence update saying `count` spectators watch."""
    while True:
        frame = await p.expect("presence")
        if frame.get("spectators", {}).get("count") == count:
            return


async def test_a_signed_out_spectator_watches_read_only(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair Markus")
    await schedule_and_open(chair)
    async with peer(server, chair) as c:
        await c.join("participant")
        async with peer(server) as s:
            joined = await s.join("spectator")
            assert joined["type"] == "joined" and joined["seat"] == "spectator"
            assert joined["state"]["session"]["status"] == "open"
            # Counted, never listed.
            assert joined["presence"]["spectators"] == 1
            assert [u["user_id"] for u in joined["presence"]["users"]] == [chair.id]
            await spectators_seen(c, 1)

            # Nothing but ping and join: every other frame is refused, nothing changes.
            before = await room_rows(server)
            for frame in (
                {"type": "raise_hand"},
                {"type": "speak", "body": "Hello"},
                {"type": "lower_hand"},
                {"type": "give_floor"},
                {"type": "lower_all_hands"},
                {"type": "close_session", "session_id": 1},
                {"type": "leave"},
            ):
                answer = await s.call(frame)
                assert answer["type"] == "error" and answer["code"] == "unauthenticated", answer
            # Signed out, no seat; signed in, no spectating.
            refused = await s.join("participant")
            assert refused["code"] == "unauthenticated"
            async with peer(server, chair) as second_tab:
                refused = await second_tab.join("spectator")
                assert refused["code"] == "forbidden"
            assert (await s.call({"type": "ping"}))["type"] == "pong"
            after = await room_rows(server)
            assert after == before

            # It hears the proceedings live.
            assert (await c.call({"type": "speak", "body": "Welcome, all."}))["type"] == "ack"
            heard = await s.expect("intervention", op="post")
            assert heard["body"] == "Welcome, all." and heard["user_id"] == chair.id
            last = heard["seq"]

        # Gone: the count falls, and its row goes.
        await spectators_seen(c, 0)
        assert (await room_rows(server))["spectators"] == []

        # A spectator resumes like everyone else: exactly what it missed, once.
        for body in ("One.", "Two."):
            assert (await c.call({"type": "speak", "body": body}))["type"] == "ack"
        async with peer(server) as s:
            resumed = await s.call(
                {"type": "join", "room": GROUP, "seat": "spectator", "since": last}
            )
            assert resumed["state"] is None and resumed["replay"] == 2
            replayed = [await s.expect("intervention"), await s.expect("intervention")]
            assert [f["body"] for f in replayed] == ["One.", "Two."]
            assert [f["seq"] for f in replayed] == [last + 1, last + 2]


async def test_a_refused_seat_change_keeps_the_seat(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    observer = await person(server, family="civil_society", name="Observer Rosa")
    waiting = await person(server, family="civil_society", name="Observer Two")
    await schedule_and_open(chair)
    async with peer(server, chair) as c, peer(server, observer) as o, peer(server, waiting) as w:
        await c.join("participant")
        assert (await o.join("observer"))["seat"] == "observer"
        before = await room_rows(server)
        # The observer asks to become a participant: refused, and nothing moves.
        refused = await o.join("participant")
        assert refused["type"] == "error" and refused["code"] == "forbidden"
        assert await room_rows(server) == before
        # The observer seat was not given away, and the observer still hears the room.
        assert (await w.join("observer"))["code"] == "no_seat_available"
        assert (await c.call({"type": "speak", "body": "Noted."}))["type"] == "ack"
        assert (await o.expect("intervention"))["body"] == "Noted."
        state = await api(chair, "GET", f"/api/rooms/{GROUP}")
        people = {u["user_id"]: u["seat"] for u in state.json()["presence"]["users"]}
        assert people == {chair.id: "participant", observer.id: "observer"}

        # An allowed change moves the seat in place, seen by the room once. The
        # observer's own arrival may go out in the same merged frame, when all of the
        # above took less than the presence flush.
        assert (await c.join("remote"))["seat"] == "remote"
        moved = await o.expect("presence")
        while (chair.id, "remote") not in {(u["user_id"], u["seat"]) for u in moved["users"]}:
            moved = await o.expect("presence")
        seen = [(u["user_id"], u["seat"]) for u in moved["users"]]
        assert seen.count((chair.id, "remote")) == 1
        assert set(seen) <= {(chair.id, "remote"), (observer.id, "observer")}
        assert moved["left"] == []


async def test_the_chair_runs_the_session_over_the_socket(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    business = await person(server, family="private_sector", role="member")
    opened = await schedule_and_open(chair)
    following = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {
            "title": "Next sitting",
            "format": "open_debate",
            "starts_at": "2005-11-17T09:00:00+00:00",
            "ends_at": "2005-11-17T10:00:00+00:00",
        },
    )
    next_id = following.json()["id"]
    async with peer(server, chair) as c, peer(server, member) as m, peer(server, business) as b:
        await c.join("participant")
        await m.join("remote")
        await b.join("participant")
        assert (await m.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await b.call({"type": "raise_hand"}))["type"] == "ack"

        before = await room_rows(server)
        for frame in (
            {"type": "lower_all_hands"},
            {"type": "close_session", "session_id": opened["id"]},
            {"type": "open_session", "session_id": next_id},
        ):
            assert (await m.call(frame))["code"] == "forbidden"
        assert await room_rows(server) == before

        lowered = await c.call({"type": "lower_all_hands"})
        assert lowered["type"] == "ack"
        event = await b.expect("queue", op="lower_all")
        assert event["seq"] == lowered["seq"] and event["queue"] == []
        assert event["user_ids"] == [member.id, business.id]
        assert (await c.call({"type": "lower_all_hands"}))["code"] == "conflict"

        # Another session cannot open while one is.
        assert (await c.call({"type": "open_session", "session_id": next_id}))["code"] == (
            "conflict"
        )
        closed = await c.call({"type": "close_session", "session_id": opened["id"]})
        assert closed["type"] == "ack"
        event = await m.expect("session", op="close")
        assert event["seq"] == closed["seq"] and event["closed"]["id"] == opened["id"]
        reopened = await c.call({"type": "open_session", "session_id": next_id})
        event = await m.expect("session", op="open")
        assert event["seq"] == reopened["seq"] and event["session"]["id"] == next_id
        missing = await c.call({"type": "close_session", "session_id": 999_999})
        assert missing["code"] == "not_found"
