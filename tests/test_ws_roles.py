"""Every room action is authorized on the server, over WebSocket and HTTP alike: a role
x action matrix. A refusal is an error frame (or a 4xx) with its code, and changes no
row and broadcasts nothing; an allowed action is read back."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any

from sqlalchemy import func, select

from forum.actions.room_reads import get_room_state, room_for
from forum.broker import room_channel
from forum.db.models import RoomEvent
from forum.wire.room import RoomState
from tests.capture import Events
from tests.factory import GROUP
from tests.people import Person, api, person
from tests.rooms_support import Peer, peer, schedule_and_open
from tests.support import LiveServer, client, make_secretariat

ROLES = ["anonymous", "observer", "member", "coordinator", "chair", "secretariat"]
CHAIRS = {"coordinator", "chair", "secretariat"}
SEATED = CHAIRS | {"member"}
ACTIONS = [
    "raise_hand",
    "move",
    "set_policy",
    "give_floor",
    "extend_floor",
    "speak",
    "lower_all_hands",
    "observer_seats",
    "close_session",
]

ALLOWED = dict.fromkeys(ACTIONS, CHAIRS) | {"raise_hand": SEATED}
# What a refused role is told, by action: WebSocket error codes, HTTP statuses.
REFUSED: dict[str, dict[str, Any]] = {
    "anonymous": dict.fromkeys(ACTIONS, "unauthenticated")
    | {"observer_seats": 401, "close_session": 401},
    "observer": dict.fromkeys(ACTIONS, "forbidden")
    | {
        "raise_hand": "observer_cannot_speak",
        "speak": "observer_cannot_speak",
        "observer_seats": 403,
        "close_session": 403,
    },
    "member": dict.fromkeys(ACTIONS, "forbidden")
    | {"speak": "floor_held", "observer_seats": 403, "close_session": 403},
}


class Room:
    def __init__(self, server: LiveServer, chair: Person, speaker: Person) -> None:
        self.server = server
        self.chair = chair
        self.speaker = speaker
        self.heard = Events()
        self.session_id: int | None = None
        self.seats = 1

    @property
    def broadcasts(self) -> list[dict[str, Any]]:
        """What the room's channel carried, presence updates aside."""
        return [event for event in self.heard.events if event.get("type") != "presence"]

    async def rows(self) -> tuple[int, RoomState]:
        """The number of event rows, and the room's state as the database has it."""
        async with self.server.state["sessionmaker"]() as session:
            count = await session.scalar(select(func.count()).select_from(RoomEvent))
            _group, room = await room_for(session, GROUP)
            state = await get_room_state(session, room.id)
        return int(count or 0), state

    async def state(self) -> dict[str, Any]:
        return {**(await self.rows())[1]}

    async def prepare(self, action: str, chair_peer: Peer, speaker_peer: Peer) -> None:
        """Bring the room to where `action` makes sense, as the real chair."""
        state = await self.state()
        if state["session"] is None:
            self.session_id = (await schedule_and_open(self.chair))["id"]
            state = await self.state()
        waiting = [entry["user_id"] for entry in state["queue"]]
        holder = (state["floor"] or {}).get("user_id")
        if action in {"move", "give_floor", "lower_all_hands"} and self.speaker.id not in waiting:
            if holder == self.speaker.id:
                assert (await chair_peer.call({"type": "take_floor"}))["type"] == "ack"
            assert (await speaker_peer.call({"type": "raise_hand"}))["type"] == "ack"
        if action in {"extend_floor", "speak"} and (
            holder != self.speaker.id or state["floor"]["limit_s"] is None
        ):
            if self.speaker.id not in waiting:
                if holder == self.speaker.id:
                    await chair_peer.call({"type": "take_floor"})
                assert (await speaker_peer.call({"type": "raise_hand"}))["type"] == "ack"
            given = await chair_peer.call(
                {"type": "give_floor", "user_id": self.speaker.id, "limit_s": 600}
            )
            assert given["type"] == "ack", given

    async def attempt(self, action: str, actor: Person | None, p: Peer) -> tuple[Any, Any]:
        """Do `action`; returns (the error code or status, or None when done; the ack
        or response)."""
        if action in {"observer_seats", "close_session"}:
            if action == "observer_seats":
                self.seats += 1
                method, path = "PUT", f"/api/rooms/{GROUP}/observer-seats"
                body: Any = {"observer_seats": {"civil_society": self.seats}}
            else:
                method, path = "POST", f"/api/rooms/{GROUP}/sessions/{self.session_id}/close"
                body = None
            if actor is None:
                async with client(self.server) as anonymous:
                    response = await anonymous.request(method, path, json=body)
            else:
                response = await api(actor, method, path, body)
            if response.status_code >= 400:
                return response.status_code, response
            return None, response
        state = await self.state()
        frames: dict[str, dict[str, Any]] = {
            "raise_hand": {"type": "raise_hand"},
            "move": {
                "type": "move",
                "user_id": self.speaker.id,
                "position": len(state["queue"]) - 1,
            },
            "set_policy": {
                "type": "set_policy",
                "policy": "rotation" if state["queue_policy"] == "fifo" else "fifo",
            },
            "give_floor": {"type": "give_floor", "user_id": self.speaker.id, "limit_s": 600},
            "extend_floor": {"type": "extend_floor", "seconds": 30},
            "speak": {"type": "speak", "body": "On the agenda item."},
            "lower_all_hands": {"type": "lower_all_hands"},
        }
        answer = await p.call(frames[action])
        if answer["type"] == "error":
            return answer["code"], answer
        assert answer["type"] == "ack", answer
        return None, answer


async def read_back(
    room: Room, action: str, actor: Person, before: Mapping[str, Any], answer: Any
) -> None:
    """An allowed action shows in the room's state and as one broadcast event."""
    after = await room.state()
    if action in {"observer_seats", "close_session"}:
        assert answer.status_code == 200
    else:
        assert answer["seq"] == after["seq"] == before["seq"] + 1
    [event] = room.broadcasts
    if action == "raise_hand":
        assert actor.id in [entry["user_id"] for entry in after["queue"]]
        assert (event["type"], event["op"]) == ("queue", "raise")
    elif action == "move":
        assert after["queue"][-1]["user_id"] == room.speaker.id or len(after["queue"]) == 1
        assert (event["type"], event["op"]) == ("queue", "move")
    elif action == "set_policy":
        assert after["queue_policy"] != before["queue_policy"]
    elif action == "give_floor":
        assert after["floor"]["user_id"] == room.speaker.id
        assert after["floor"]["limit_s"] == 600
    elif action == "extend_floor":
        assert after["floor"]["extended_s"] == before["floor"]["extended_s"] + 30
    elif action == "speak":
        assert (event["type"], event["body"], event["user_id"]) == (
            "intervention",
            "On the agenda item.",
            actor.id,
        )
    elif action == "lower_all_hands":
        assert before["queue"] and after["queue"] == []
        assert (event["type"], event["op"]) == ("queue", "lower_all")
    elif action == "observer_seats":
        assert after["observer_seats"] == {"civil_society": room.seats}
    else:
        assert after["session"] is None and event["op"] == "close"


async def test_every_role_and_action_over_both_transports(server: LiveServer) -> None:
    chair = await person(server, role="chair", name="Chair")
    speaker = await person(server, role="member", name="Speaker")
    actors: dict[str, Person | None] = {
        "anonymous": None,
        "observer": await person(server, family="civil_society", role="observer"),
        "member": await person(server, role="member"),
        "coordinator": await person(server, role="coordinator"),
        "chair": await person(server, role="chair"),
        "secretariat": await person(server),
    }
    secretariat = actors["secretariat"]
    assert secretariat is not None
    await make_secretariat(server, secretariat.id)
    room = Room(server, chair, speaker)

    async with AsyncExitStack() as stack:
        chair_peer = await stack.enter_async_context(peer(server, chair, max_queue=None))
        speaker_peer = await stack.enter_async_context(peer(server, speaker, max_queue=None))
        await schedule_and_open(chair)
        joined = await chair_peer.join("participant")
        await server.state["broker"].subscribe(room_channel(joined["room"]), room.heard)
        await speaker_peer.join("remote")
        sessions = (await api(chair, "GET", f"/api/rooms/{GROUP}/sessions")).json()
        room.session_id = sessions["sessions"][0]["id"]

        outcomes: dict[tuple[str, str], Any] = {}
        for role in ROLES:
            actor = actors[role]
            # Unbounded: frames this test does not read must not stall the close.
            p = await stack.enter_async_context(peer(server, actor, max_queue=None))
            if actor is not None:
                seat = "observer" if role == "observer" else "participant"
                assert (await p.join(seat))["type"] == "joined", role
            for action in ACTIONS:
                await room.prepare(action, chair_peer, speaker_peer)
                before_rows = await room.rows()
                room.heard.take()
                code, answer = await room.attempt(action, actor, p)
                outcomes[role, action] = code
                if role in ALLOWED[action]:
                    assert code is None, (role, action, answer)
                    assert actor is not None
                    await read_back(room, action, actor, before_rows[1], answer)
                else:
                    assert code == REFUSED[role][action], (role, action, answer)
                    if isinstance(code, str):
                        assert answer["ref"] and answer["message"]
                    else:
                        assert answer.json()["error"]["code"]
                    assert await room.rows() == before_rows, (role, action)
                    assert room.broadcasts == [], (role, action)
            # The connection of a refused role stays open.
            assert (await p.call({"type": "ping"}))["type"] == "pong"

    allowed = {key for key, code in outcomes.items() if code is None}
    assert allowed == {(r, a) for a in ACTIONS for r in ALLOWED[a]}
