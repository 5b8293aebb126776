"""The room actions' world: a room of the seed, a cast of people in their roles, and a
memory broker whose room channel is recorded. `World.done` and `World.refused` assert the
rows an action wrote and the events it published together; `World.follow` that a
client's state (the initial state plus the events) equals the state read fresh."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions import groups, seats, speaking
from forum.actions.room_reads import get_room_state, room_for
from forum.actions.room_state import STATE_KEYS
from forum.broker import room_channel, user_channel
from forum.broker.memory import MemoryBroker
from forum.db.engine import end_read
from forum.db.models import Attendance, Group, Presence, Room, RoomEvent, RoomSession, User
from forum.domain.sessions import SessionFormat
from forum.domain.speaking import QueuePolicy
from forum.domain.vocabulary import Role, Seat
from forum.errors import ErrorCode, ForumError
from forum.wire.room import RoomState
from tests import factory
from tests.capture import Events
from tests.factory import GROUP

PEOPLE = {
    # name: (family, role in the group, secretariat)
    "chair": ("government", "chair", False),
    "coordinator": ("government", "coordinator", False),
    "member": ("government", "member", False),
    "business": ("private_sector", "member", False),
    "igo": ("international_org", "contact_point", False),
    "listener": ("civil_society", "observer", False),
    "activist": ("civil_society", None, False),
    "outsider": ("private_sector", None, False),
    "secretariat": ("government", None, True),
}


def apply(state: dict[str, Any], event: dict[str, Any]) -> None:
    """What docs/protocol.md tells a client to do with an event."""
    assert event["seq"] == state["seq"] + 1, "a gap"
    for key in STATE_KEYS:
        if key in event:
            state[key] = event[key]
    state["seq"] = event["seq"]


@dataclass
class World:
    session: AsyncSession
    broker: MemoryBroker
    room_id: int
    people: dict[str, User]
    captured: Events = field(default_factory=Events)
    client: dict[str, Any] | None = None
    _connections: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __getitem__(self, name: str) -> User:
        return self.people[name]

    @property
    def published(self) -> list[dict[str, Any]]:
        """What was published to the room since the last `take`."""
        return self.captured.events

    def events(self) -> list[dict[str, Any]]:
        """What was published to the room, presence updates aside."""
        return [m for m in self.published if m["type"] != "presence"]

    def take(self) -> list[dict[str, Any]]:
        return self.captured.take()

    def connection_id(self) -> str:
        return f"conn-{next(self._connections):04d}"

    async def rows(self) -> dict[str, Any]:
        """Every row a room action may write, read fresh."""
        s = self.session
        room = (
            await s.execute(
                select(
                    Room.last_seq,
                    Room.presence_ver,
                    Room.queue_policy,
                    Room.observer_seats,
                    Room.open_session_id,
                    Room.queue,
                    Room.floor,
                    Room.spoken,
                ).where(Room.id == self.room_id)
            )
        ).one()
        snapshot = {
            "room": tuple(room),
            "events": (
                await s.execute(
                    select(RoomEvent.seq, RoomEvent.type, RoomEvent.op)
                    .where(RoomEvent.room_id == self.room_id)
                    .order_by(RoomEvent.seq)
                )
            ).all(),
            "sessions": (
                await s.execute(
                    select(
                        RoomSession.id,
                        RoomSession.status,
                        RoomSession.open_seq,
                        RoomSession.close_seq,
                    )
                    .where(RoomSession.room_id == self.room_id)
                    .order_by(RoomSession.id)
                )
            ).all(),
            "presence": (
                await s.execute(
                    select(Presence.id, Presence.user_id, Presence.seat).order_by(Presence.id)
                )
            ).all(),
            "attendance": (
                await s.execute(
                    select(Attendance.session_id, Attendance.user_id, Attendance.seat).order_by(
                        Attendance.session_id, Attendance.user_id, Attendance.seat
                    )
                )
            ).all(),
        }
        await end_read(s)
        return snapshot

    async def state(self) -> RoomState:
        state = await get_room_state(self.session, self.room_id)
        await end_read(self.session)
        return state

    async def refused(self, code: ErrorCode, action: Awaitable[Any]) -> ForumError:
        """`action` is refused with `code`, writes nothing and publishes nothing."""
        before = await self.rows()
        published = len(self.published)
        # The rollback expires what the session holds; the objects this test keeps
        # (people, sessions) stay readable detached, as they are in a request.
        self.session.expunge_all()
        with pytest.raises(ForumError) as caught:
            await action
        assert caught.value.code is code, caught.value
        assert not self.session.in_transaction()
        assert await self.rows() == before
        assert len(self.published) == published
        return caught.value

    async def done(self, action: Awaitable[Any], type_: str, op: str) -> dict[str, Any]:
        """`action` publishes exactly one event, of `type_`/`op`, whose row is stored
        with the room's next seq."""
        last = (await self.rows())["room"][0]
        self.take()
        await action
        events = self.events()
        assert len(events) == 1, events
        event = events[0]
        assert (event["type"], event["op"], event["seq"]) == (type_, op, last + 1)
        rows = await self.rows()
        assert rows["room"][0] == last + 1
        assert rows["events"][-1] == (last + 1, type_, op)
        return event

    async def watch(self) -> dict[str, Any]:
        """The state a client reads on joining, which `follow` keeps up to date."""
        # A client's copy, which events update key by key.
        self.client = {**await self.state()}
        self.take()
        return self.client

    async def follow(self, action: Awaitable[Any]) -> None:
        """Run `action`, apply what it published to the watched state, and assert that it
        equals the state read fresh."""
        assert self.client is not None, "watch() first"
        await action
        for event in self.events():
            apply(self.client, event)
        self.take()
        assert self.client == await self.state()

    # -- shorthands --------------------------------------------------------------------

    async def schedule(
        self,
        who: str = "chair",
        fmt: SessionFormat = SessionFormat.STATEMENTS,
        title: str = "Sitting",
        agenda: str = "1. *Opening*",
    ) -> RoomSession:
        return await factory.make_room_session(
            self.session, self.broker, self.room_id, self[who], fmt=fmt, title=title, agenda=agenda
        )

    async def open(self, fmt: SessionFormat = SessionFormat.STATEMENTS) -> RoomSession:
        return await factory.make_room_session(
            self.session, self.broker, self.room_id, self["chair"], fmt=fmt, open_it=True
        )

    async def seat(self, who: str, seat: Seat) -> str:
        connection = self.connection_id()
        await seats.do_take_seat(
            self.session,
            self.broker,
            self.room_id,
            user=self[who],
            seat=seat,
            connection_id=connection,
            worker="w1",
        )
        return connection

    def raise_hand(self, who: str, seat: Seat = Seat.PARTICIPANT) -> Awaitable[Any]:
        return speaking.do_raise_hand(
            self.session, self.broker, self.room_id, user=self[who], seat=seat
        )

    def give(
        self, who: str = "chair", target: str | None = None, limit_s: int | None = None
    ) -> Awaitable[Any]:
        return speaking.do_give_floor(
            self.session,
            self.broker,
            self.room_id,
            user=self[who],
            target_id=self[target].id if target else None,
            limit_s=limit_s,
        )

    def move(self, target: str, position: int, who: str = "chair") -> Awaitable[Any]:
        return speaking.do_move_in_queue(
            self.session,
            self.broker,
            self.room_id,
            user=self[who],
            target_id=self[target].id,
            position=position,
        )

    def policy(self, policy: QueuePolicy, who: str = "chair") -> Awaitable[Any]:
        return speaking.do_set_queue_policy(
            self.session, self.broker, self.room_id, user=self[who], policy=policy
        )

    def speak(
        self, who: str, body: str = "Thank you, Chair.", seat: Seat = Seat.PARTICIPANT
    ) -> Awaitable[Any]:
        return speaking.do_intervene(
            self.session, self.broker, self.room_id, user=self[who], seat=seat, body=body
        )

    # -- a change of standing ------------------------------------------------------------

    async def group(self) -> Group:
        group = await self.session.scalar(select(Group).where(Group.slug == GROUP))
        assert group is not None
        await end_read(self.session)
        return group

    async def listen_to(self, who: str) -> Events:
        """What is published on the person's own channel from now on."""
        heard = Events()
        await self.broker.subscribe(user_channel(self[who].id), heard)
        return heard

    def set_role(self, group: Group, actor: str, who: str, role: Role | None) -> Awaitable[Any]:
        return groups.do_set_member_role(
            self.session,
            self.broker,
            actor=self[actor],
            slug=group.slug,
            user_id=self[who].id,
            role=role,
        )

    def notice(self, role: str | None, connections: dict[str, str | None]) -> dict[str, Any]:
        """The standing notice a person's connections are sent."""
        return {
            "type": "seat",
            "op": "standing",
            "room": self.room_id,
            "role": role,
            "chair": role in ("chair", "coordinator"),
            "connections": connections,
        }


async def make_people(session: AsyncSession) -> dict[str, User]:
    """The cast of PEOPLE, each with their role in the group (no password, no token)."""
    people = {}
    async with session.begin():
        for name, (family, role, secretariat) in PEOPLE.items():
            user = await factory.make_user(
                session,
                family=family,
                country="CH",
                name=name.title(),
                organization="Org",
                secretariat=secretariat,
                password=None,
            )
            if role:
                await factory.add_role(session, user.id, role)
            people[name] = user
    session.expunge_all()
    return people


async def make_world(session: AsyncSession) -> World:
    broker = MemoryBroker()
    _group, room = await room_for(session, GROUP)
    await end_read(session)
    people = await make_people(session)
    w = World(session=session, broker=broker, room_id=room.id, people=people)
    await broker.subscribe(room_channel(room.id), w.captured)
    return w
