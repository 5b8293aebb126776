"""A change of standing reaches live seats: a real server, real `websockets` clients,
on SQLite and PostgreSQL. The membership changes go over HTTP; the room hears of them
through the broker, and the person's next frames are refused and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from forum.actions.groups import do_leave_group
from forum.actions.room_reads import get_room_state, room_for
from forum.broker import room_channel
from forum.db.engine import end_read
from forum.db.models import Presence, RoomEvent, User
from forum.ws.connection import Connection
from tests.capture import Events
from tests.factory import GROUP
from tests.people import Person, api, person
from tests.rooms_support import Peer, peer, schedule_and_open
from tests.support import LiveServer, client


class Room:
    """The room's rows and what the broker carried to it, to compare around a refusal."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.heard = Events()
        self.session_id = 0

    @property
    def broadcasts(self) -> list[dict[str, Any]]:
        return self.heard.events

    async def listen(self) -> None:
        async with self.server.state["sessionmaker"]() as session:
            _group, room = await room_for(session, GROUP)
        await self.server.state["broker"].subscribe(room_channel(room.id), self.heard)

    async def rows(self) -> tuple[Any, ...]:
        async with self.server.state["sessionmaker"]() as session:
            events = await session.scalar(select(func.count()).select_from(RoomEvent))
            _group, room = await room_for(session, GROUP)
            state = await get_room_state(session, room.id)
            presence = (
                await session.execute(
                    select(Presence.id, Presence.user_id, Presence.seat).order_by(Presence.id)
                )
            ).all()
        return events, state, presence

    async def refused(self, p: Peer, frames: list[dict[str, Any]], code: str) -> None:
        """Each frame is answered with an error of `code`; no row, no broadcast."""
        before, heard = await self.rows(), len(self.broadcasts)
        for frame in frames:
            answer = await p.call(frame)
            assert (answer["type"], answer["code"]) == ("error", code), answer
        assert (await p.call({"type": "ping"}))["type"] == "pong"
        assert await self.rows() == before
        assert len(self.broadcasts) == heard


async def presence_of(p: Peer, user_id: int) -> dict[str, Any]:
    """The next presence frame that mentions `user_id`: their entry, or their leaving."""
    while True:
        frame = await p.expect("presence")
        for entry in frame["users"]:
            if entry["user_id"] == user_id:
                return dict(entry)
        for entry in frame["left"]:
            if entry["user_id"] == user_id:
                return {**entry, "left": True}


SPEAK = [{"type": "raise_hand"}, {"type": "speak", "body": "May I?"}]


async def open_room(server: LiveServer) -> tuple[Person, Room]:
    """A chair and an open debate, where any member may speak: a refusal below is the
    change of standing's doing, not the floor's."""
    chair = await person(server, role="chair")
    room = Room(server)
    room.session_id = (await schedule_and_open(chair, fmt="open_debate"))["id"]
    await room.listen()
    return chair, room


async def test_a_member_who_leaves_loses_the_seat_and_the_hand(server: LiveServer) -> None:
    member = await person(server, role="member", name="Leaving Lea")
    chair, room = await open_room(server)
    async with peer(server, chair) as c, peer(server, member) as m:
        await c.join("participant")
        await m.join("participant")
        assert (await m.call({"type": "raise_hand"}))["type"] == "ack"
        await c.expect("queue", op="raise", user_id=member.id)

        left = await api(member, "POST", f"/api/groups/{GROUP}/leave")
        assert left.status_code == 204

        lowered = await c.expect("queue", op="lower", user_id=member.id)
        assert (lowered["reason"], lowered["actor"], lowered["queue"]) == (
            "standing",
            member.id,
            [],
        )
        assert (await presence_of(c, member.id)).get("left") is True
        await m.expect("left", room=lowered["room"], reason="standing")
        state = (await room.rows())[1]
        assert state["queue"] == [] and state["seq"] == lowered["seq"]
        # Out of the room: every frame that needs a seat is refused, nothing changes.
        await room.refused(m, SPEAK, "conflict")


async def test_a_member_removed_by_the_chair_loses_the_floor(server: LiveServer) -> None:
    member = await person(server, role="member", name="Removed Rui")
    chair, room = await open_room(server)
    async with peer(server, chair) as c, peer(server, member) as m:
        await c.join("participant")
        await m.join("remote")
        assert (await m.call({"type": "raise_hand"}))["type"] == "ack"
        assert (await c.call({"type": "give_floor", "limit_s": 120}))["type"] == "ack"
        await m.expect("floor", op="give")

        removed = await api(chair, "DELETE", f"/api/groups/{GROUP}/members/{member.id}")
        assert removed.status_code == 204

        taken = await c.expect("floor", op="take", user_id=member.id)
        assert (taken["floor"], taken["reason"], taken["actor"]) == (None, "standing", chair.id)
        assert (await presence_of(c, member.id)).get("left") is True
        await m.expect("left", reason="standing")
        assert (await room.rows())[1]["floor"] is None
        await room.refused(m, SPEAK, "conflict")
    # The archive says why the floor returned.
    closed = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{room.session_id}/close")
    assert closed.status_code == 200
    async with client(server) as anonymous:
        page = await anonymous.get(f"/sessions/{room.session_id}/transcript")
    assert "The floor returns to the chair: the speaker's role in the group changed" in page.text


async def test_a_member_made_observer_moves_to_the_observer_seat(server: LiveServer) -> None:
    member = await person(server, family="civil_society", role="member", name="Made Mo")
    chair, room = await open_room(server)
    async with peer(server, chair) as c, peer(server, member) as m:
        await c.join("participant")
        await m.join("participant")
        assert (await m.call({"type": "raise_hand"}))["type"] == "ack"
        await c.expect("queue", op="raise", user_id=member.id)

        changed = await api(
            chair, "PUT", f"/api/groups/{GROUP}/members/{member.id}", {"role": "observer"}
        )
        assert changed.status_code == 200, changed.text

        lowered = await c.expect("queue", op="lower", user_id=member.id)
        assert (lowered["reason"], lowered["queue"]) == ("standing", [])
        entry = await presence_of(c, member.id)
        assert (entry["seat"], entry["observer"]) == ("observer", True)
        seat = await m.expect("seat", seat="observer")
        assert (seat["role"], seat["chair"], seat["reason"]) == ("observer", False, "standing")
        _events, _state, presence = await room.rows()
        assert [row[2] for row in presence if row[1] == member.id] == ["observer"]
        await room.refused(m, SPEAK, "observer_cannot_speak")


async def test_a_change_that_lands_while_joining_is_not_missed(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person leaves the group after their seat is taken and before their
    connection is in the room, so the notice finds no connection to apply to."""
    member = await person(server, role="member")
    hub = server.state["hub"]
    real_enter = hub.enter

    async def enter_late(connection: Connection, room_id: int) -> None:
        async with server.state["sessionmaker"]() as session:
            user = await session.get(User, member.id)
            await end_read(session)
            assert user is not None
            await do_leave_group(session, server.state["broker"], user=user, slug=GROUP)
        await real_enter(connection, room_id)

    monkeypatch.setattr(hub, "enter", enter_late)
    async with peer(server, member) as m:
        refused = await m.join("participant")
        monkeypatch.setattr(hub, "enter", real_enter)
        assert (refused["type"], refused["code"]) == ("error", "seat_revoked")
        assert not any(c.room_id is not None for c in hub.connections)
        room = Room(server)
        _events, _state, presence = await room.rows()
        assert presence == []
        await room.refused(m, SPEAK, "conflict")
