"""The room actions against a real database, SQLite and PostgreSQL: every change
asserts the rows it wrote and the events it published; every refusal asserts its code,
no row changed and nothing published. And a client's state (the initial state plus
the events) equals the state read fresh."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.event import listen, remove
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions import groups, room_reads, rooms, seats, speaking
from forum.actions.room_reads import get_room_state, room_for
from forum.actions.room_state import STATE_KEYS
from forum.actions.rooms import SessionDraft
from forum.broker import Message, room_channel, user_channel
from forum.broker.memory import MemoryBroker
from forum.db.engine import end_read
from forum.db.models import (
    Attendance,
    Group,
    Membership,
    Presence,
    Room,
    RoomEvent,
    RoomSession,
    User,
)
from forum.domain.sessions import SessionFormat, SessionStatus
from forum.domain.speaking import QueuePolicy
from forum.domain.vocabulary import Role, Seat
from forum.errors import ErrorCode, ForumError

GROUP = "wgig"
_ids = itertools.count(1)


@dataclass
class World:
    session: AsyncSession
    broker: MemoryBroker
    room_id: int
    people: dict[str, User]
    published: list[dict[str, Any]] = field(default_factory=list)
    _connections: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __getitem__(self, name: str) -> User:
        return self.people[name]

    def events(self) -> list[dict[str, Any]]:
        """What was published to the room, presence updates aside."""
        return [m for m in self.published if m["type"] != "presence"]

    def take(self) -> list[dict[str, Any]]:
        taken, self.published[:] = list(self.published), []
        return taken

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

    async def state(self) -> dict[str, Any]:
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

    # -- shorthands --------------------------------------------------------------------

    async def schedule(
        self,
        who: str = "chair",
        fmt: SessionFormat = SessionFormat.STATEMENTS,
        title: str = "Sitting",
        agenda: str = "1. *Opening*",
    ) -> RoomSession:
        start = datetime(2005, 11, 16, 9, tzinfo=UTC)
        return await rooms.do_schedule_session(
            self.session,
            self.broker,
            self.room_id,
            user=self[who],
            draft=SessionDraft(title, agenda, start, start + timedelta(hours=3), fmt),
        )

    async def open(self, fmt: SessionFormat = SessionFormat.STATEMENTS) -> RoomSession:
        row = await self.schedule(fmt=fmt)
        return await rooms.do_open_session(
            self.session, self.broker, self.room_id, user=self["chair"], session_id=row.id
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

    def speak(
        self, who: str, body: str = "Thank you, Chair.", seat: Seat = Seat.PARTICIPANT
    ) -> Awaitable[Any]:
        return speaking.do_intervene(
            self.session, self.broker, self.room_id, user=self[who], seat=seat, body=body
        )


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


async def make_people(session: AsyncSession, group_id: int) -> dict[str, User]:
    people = {}
    async with session.begin():
        for name, (family, role, secretariat) in PEOPLE.items():
            n = next(_ids)
            user = User(
                email=f"{name}{n}@example.org",
                password_hash="not-a-hash",
                display_name=name.title(),
                family=family,
                organization="Org",
                country="CH",
                region="europe",
                is_secretariat=secretariat,
            )
            session.add(user)
            await session.flush()
            if role:
                session.add(Membership(group_id=group_id, user_id=user.id, role=role))
            people[name] = user
    session.expunge_all()
    return people


@pytest.fixture
async def world(session: AsyncSession) -> World:
    broker = MemoryBroker()
    group, room = await room_for(session, GROUP)
    await end_read(session)
    people = await make_people(session, group.id)
    w = World(session=session, broker=broker, room_id=room.id, people=people)

    def collect(channel: str, message: Message) -> None:
        w.published.append(dict(message))

    await broker.subscribe(room_channel(room.id), collect)
    return w


# -- rooms and sessions ----------------------------------------------------------------


async def test_every_group_has_its_room_and_reading_it_writes_nothing(
    session: AsyncSession,
) -> None:
    groups = await session.scalar(select(func.count()).select_from(Group))
    with_room = select(func.count(func.distinct(Room.group_id))).select_from(Room)
    assert groups and await session.scalar(with_room) == groups
    rooms_now = select(func.count()).select_from(Room)
    before = await session.scalar(rooms_now)
    group = await session.scalar(select(Group).where(Group.slug != GROUP).limit(1))
    assert group is not None
    _g, first = await room_for(session, group.slug)
    _g, again = await room_for(session, group.slug)
    assert first.id == again.id and first.group_id == group.id
    assert await session.scalar(rooms_now) == before
    await end_read(session)
    with pytest.raises(ForumError) as caught:
        await room_for(session, "no-such-group")
    assert caught.value.code is ErrorCode.NOT_FOUND


async def test_schedule_open_and_close_a_session(world: World) -> None:
    w = world
    before = await w.rows()
    scheduled = await w.done(w.schedule(title="  WSIS follow-up  "), "session", "schedule")
    row = scheduled["scheduled"]
    assert row["title"] == "WSIS follow-up" and row["status"] == "scheduled"
    assert "<em>Opening</em>" in row["agenda_html"]
    assert scheduled["actor"] == w["chair"].id
    rows = await w.rows()
    assert rows["sessions"] == [(row["id"], "scheduled", None, None)]
    assert rows["room"][1:] == before["room"][1:]  # the live state is untouched

    no_agenda = await w.schedule(title="Informal", agenda="   ")
    assert no_agenda.agenda_html == ""
    w.take()

    # People already in the room attend from the opening.
    await w.seat("member", Seat.REMOTE)
    opened = await w.done(
        rooms.do_open_session(
            w.session, w.broker, w.room_id, user=w["coordinator"], session_id=row["id"]
        ),
        "session",
        "open",
    )
    assert opened["session"]["status"] == "open" and opened["session"]["opened_at"]
    assert (opened["queue"], opened["floor"], opened["spoken"]) == ([], None, {})
    rows = await w.rows()
    assert rows["room"][4] == row["id"]
    assert rows["sessions"][0] == (row["id"], "open", opened["seq"], None)
    assert rows["attendance"] == [(row["id"], w["member"].id, "remote")]

    # Only one open session.
    await w.refused(
        ErrorCode.CONFLICT,
        rooms.do_open_session(
            w.session, w.broker, w.room_id, user=w["chair"], session_id=no_agenda.id
        ),
    )
    closed = await w.done(
        rooms.do_close_session(
            w.session, w.broker, w.room_id, user=w["secretariat"], session_id=row["id"]
        ),
        "session",
        "close",
    )
    assert closed["session"] is None and closed["closed"]["status"] == "closed"
    rows = await w.rows()
    assert rows["room"][4] is None
    assert rows["sessions"][0] == (row["id"], "closed", opened["seq"], closed["seq"])
    await w.refused(
        ErrorCode.SESSION_NOT_OPEN,
        rooms.do_close_session(
            w.session, w.broker, w.room_id, user=w["chair"], session_id=row["id"]
        ),
    )
    await w.refused(
        ErrorCode.CONFLICT,
        rooms.do_open_session(
            w.session, w.broker, w.room_id, user=w["chair"], session_id=row["id"]
        ),
    )

    listed = await room_reads.list_sessions(w.session, w.room_id)
    assert [s.id for s in listed] == [no_agenda.id, row["id"]]
    closed_only = await room_reads.list_sessions(w.session, w.room_id, status=SessionStatus.CLOSED)
    assert [s.id for s in closed_only] == [row["id"]]
    await end_read(w.session)


async def test_only_the_chair_runs_sessions(world: World) -> None:
    w = world
    scheduled = await w.schedule()
    others = ["member", "listener", "activist", "business", "igo", "outsider"]
    for who in others:
        await w.refused(ErrorCode.FORBIDDEN, w.schedule(who=who))
        await w.refused(
            ErrorCode.FORBIDDEN,
            rooms.do_open_session(
                w.session, w.broker, w.room_id, user=w[who], session_id=scheduled.id
            ),
        )
    await rooms.do_open_session(
        w.session, w.broker, w.room_id, user=w["chair"], session_id=scheduled.id
    )
    for who in others:
        await w.refused(
            ErrorCode.FORBIDDEN,
            rooms.do_close_session(
                w.session, w.broker, w.room_id, user=w[who], session_id=scheduled.id
            ),
        )


async def test_session_refusals(world: World, session: AsyncSession) -> None:
    w = world
    await w.refused(ErrorCode.VALIDATION, w.schedule(title="   "))
    for missing in (10**9, -1):
        await w.refused(
            ErrorCode.NOT_FOUND,
            rooms.do_open_session(
                w.session, w.broker, w.room_id, user=w["chair"], session_id=missing
            ),
        )
    # A session of another room is not found in this one.
    other_group = await session.scalar(select(Group).where(Group.slug != GROUP).limit(1))
    assert other_group is not None
    await end_read(session)
    _g, other_room = await room_for(session, other_group.slug)
    await end_read(session)
    elsewhere = await rooms.do_schedule_session(
        session,
        w.broker,
        other_room.id,
        user=w["secretariat"],
        draft=SessionDraft(
            "Elsewhere",
            "",
            datetime(2005, 1, 1, tzinfo=UTC),
            datetime(2005, 1, 1, 1, tzinfo=UTC),
            SessionFormat.BRIEFING,
        ),
    )
    await w.refused(
        ErrorCode.NOT_FOUND,
        rooms.do_close_session(
            w.session, w.broker, w.room_id, user=w["chair"], session_id=elsewhere.id
        ),
    )
    # No such room at all.
    await w.refused(
        ErrorCode.NOT_FOUND,
        speaking.do_set_queue_policy(
            w.session, w.broker, 10**9, user=w["chair"], policy=QueuePolicy.FIFO
        ),
    )
    with pytest.raises(ForumError) as caught:
        await room_reads.get_room_state(w.session, 10**9)
    assert caught.value.code is ErrorCode.NOT_FOUND
    await end_read(w.session)


# -- the queue and the floor --------------------------------------------------------------


async def test_hands_the_queue_and_its_policies(world: World) -> None:
    w = world
    await w.refused(ErrorCode.SESSION_NOT_OPEN, w.raise_hand("member"))
    await w.open()
    raised = await w.done(w.raise_hand("member", Seat.REMOTE), "queue", "raise")
    assert raised["user_id"] == w["member"].id and raised["actor"] == w["member"].id
    assert raised["queue"] == [
        {
            "user_id": w["member"].id,
            "name": "Member",
            "family": "government",
            "seat": "remote",
            "raised": 0,
            "point_of_order": False,
            "note": None,
            "region_side": raised["queue"][0]["region_side"],
            "out_of_time": False,
        }
    ]
    await w.refused(ErrorCode.CONFLICT, w.raise_hand("member"))
    await w.refused(ErrorCode.OBSERVER_CANNOT_SPEAK, w.raise_hand("listener", Seat.OBSERVER))
    await w.done(w.raise_hand("coordinator"), "queue", "raise")
    business = await w.done(w.raise_hand("business"), "queue", "raise")
    assert [e["user_id"] for e in business["queue"]] == [
        w["member"].id,
        w["coordinator"].id,
        w["business"].id,
    ]
    assert (await w.rows())["room"][5] == business["queue"]

    # The chair reorders; others may not.
    await w.refused(
        ErrorCode.FORBIDDEN,
        speaking.do_move_in_queue(
            w.session,
            w.broker,
            w.room_id,
            user=w["member"],
            target_id=w["business"].id,
            position=0,
        ),
    )
    await w.refused(
        ErrorCode.VALIDATION,
        speaking.do_move_in_queue(
            w.session,
            w.broker,
            w.room_id,
            user=w["chair"],
            target_id=w["business"].id,
            position=3,
        ),
    )
    await w.refused(
        ErrorCode.CONFLICT,
        speaking.do_move_in_queue(
            w.session,
            w.broker,
            w.room_id,
            user=w["chair"],
            target_id=w["igo"].id,
            position=0,
        ),
    )
    moved = await w.done(
        speaking.do_move_in_queue(
            w.session,
            w.broker,
            w.room_id,
            user=w["chair"],
            target_id=w["business"].id,
            position=0,
        ),
        "queue",
        "move",
    )
    assert moved["position"] == 0
    assert [e["user_id"] for e in moved["queue"]] == [
        w["business"].id,
        w["member"].id,
        w["coordinator"].id,
    ]

    # Lowering: one's own hand, or anyone's by the chair.
    await w.refused(
        ErrorCode.FORBIDDEN,
        speaking.do_lower_hand(
            w.session, w.broker, w.room_id, user=w["member"], target_id=w["business"].id
        ),
    )
    lowered = await w.done(
        speaking.do_lower_hand(w.session, w.broker, w.room_id, user=w["member"], target_id=None),
        "queue",
        "lower",
    )
    assert lowered["user_id"] == w["member"].id
    await w.refused(
        ErrorCode.CONFLICT,
        speaking.do_lower_hand(w.session, w.broker, w.room_id, user=w["member"], target_id=None),
    )
    by_chair = await w.done(
        speaking.do_lower_hand(
            w.session, w.broker, w.room_id, user=w["chair"], target_id=w["coordinator"].id
        ),
        "queue",
        "lower",
    )
    assert [e["user_id"] for e in by_chair["queue"]] == [w["business"].id]

    # Policy: the chair only; the queue is re-projected.
    await w.refused(
        ErrorCode.FORBIDDEN,
        speaking.do_set_queue_policy(
            w.session, w.broker, w.room_id, user=w["business"], policy=QueuePolicy.ROTATION
        ),
    )
    policy = await w.done(
        speaking.do_set_queue_policy(
            w.session, w.broker, w.room_id, user=w["chair"], policy=QueuePolicy.ROTATION
        ),
        "room",
        "policy",
    )
    assert policy["queue_policy"] == "rotation" and policy["queue"] == by_chair["queue"]
    assert (await w.rows())["room"][2] == "rotation"


async def test_the_floor_by_each_policy(world: World) -> None:
    w = world
    await w.refused(ErrorCode.SESSION_NOT_OPEN, w.give())
    await w.open()
    await w.refused(ErrorCode.CONFLICT, w.give())  # nobody waits
    for who in ("member", "coordinator", "business"):
        await w.raise_hand(who)
    await w.refused(ErrorCode.FORBIDDEN, w.give(who="member"))
    await w.refused(ErrorCode.CONFLICT, w.give(target="igo"))
    await w.refused(ErrorCode.VALIDATION, w.give(limit_s=0))

    first = await w.done(w.give(limit_s=120), "floor", "give")  # fifo: the member
    floor = first["floor"]
    assert (floor["user_id"], floor["limit_s"], floor["turn"]) == (
        w["member"].id,
        120,
        first["seq"],
    )
    assert floor["ends_at"] is not None and first["previous"] is None
    assert first["spoken"] == {"government": 1}
    assert w["member"].id not in [e["user_id"] for e in first["queue"]]
    rows = await w.rows()
    assert rows["room"][6] == floor and rows["room"][7] == {"government": 1}
    await w.refused(ErrorCode.CONFLICT, w.raise_hand("member"))  # holds the floor

    await speaking.do_set_queue_policy(
        w.session, w.broker, w.room_id, user=w["chair"], policy=QueuePolicy.ROTATION
    )
    # Rotation: the private sector has spoken least, though the coordinator was first.
    second = await w.done(w.give(), "floor", "give")
    assert second["floor"]["user_id"] == w["business"].id and second["floor"]["ends_at"] is None
    assert second["previous"] == w["member"].id
    assert second["spoken"] == {"government": 1, "private_sector": 1}

    # Extend: only a timed turn, only the chair.
    await w.refused(
        ErrorCode.CONFLICT,
        speaking.do_extend_floor(w.session, w.broker, w.room_id, user=w["chair"], seconds=30),
    )
    third = await w.done(w.give(target="coordinator", limit_s=60), "floor", "give")
    await w.refused(
        ErrorCode.FORBIDDEN,
        speaking.do_extend_floor(w.session, w.broker, w.room_id, user=w["member"], seconds=30),
    )
    await w.refused(
        ErrorCode.VALIDATION,
        speaking.do_extend_floor(w.session, w.broker, w.room_id, user=w["chair"], seconds=0),
    )
    extended = await w.done(
        speaking.do_extend_floor(w.session, w.broker, w.room_id, user=w["chair"], seconds=30),
        "floor",
        "extend",
    )
    assert extended["seconds"] == 30
    assert extended["floor"]["extended_s"] == 30 and extended["floor"]["turn"] == third["seq"]
    assert (await w.rows())["room"][6] == extended["floor"]

    await w.refused(
        ErrorCode.FORBIDDEN,
        speaking.do_take_floor(w.session, w.broker, w.room_id, user=w["business"]),
    )
    taken = await w.done(
        speaking.do_take_floor(w.session, w.broker, w.room_id, user=w["chair"]), "floor", "take"
    )
    assert (taken["floor"], taken["user_id"], taken["reason"]) == (
        None,
        w["coordinator"].id,
        "chair",
    )
    assert (await w.rows())["room"][6] is None
    await w.refused(
        ErrorCode.CONFLICT,
        speaking.do_take_floor(w.session, w.broker, w.room_id, user=w["chair"]),
    )


async def test_the_floor_expires_only_for_its_own_turn_once_time_is_up(world: World) -> None:
    w = world
    await w.open()
    expire = speaking.do_expire_floor
    now = datetime.now(UTC)
    assert await expire(w.session, w.broker, w.room_id, turn_seq=1) is None  # no turn
    await w.raise_hand("member")
    given = await w.give(limit_s=60)
    before = await w.rows()
    w.take()
    # Not yet; not this turn.
    assert await expire(w.session, w.broker, w.room_id, turn_seq=given.seq) is None
    assert (
        await expire(
            w.session, w.broker, w.room_id, turn_seq=given.seq + 1, now=now + timedelta(hours=1)
        )
        is None
    )
    assert await w.rows() == before and not w.published
    expired = await w.done(
        expire(w.session, w.broker, w.room_id, turn_seq=given.seq, now=now + timedelta(hours=1)),
        "floor",
        "take",
    )
    assert expired["reason"] == "expired" and expired["actor"] is None
    assert expired["user_id"] == w["member"].id
    # A turn without a limit never expires.
    await w.raise_hand("member")
    untimed = await w.give()
    assert (
        await expire(
            w.session, w.broker, w.room_id, turn_seq=untimed.seq, now=now + timedelta(days=1)
        )
        is None
    )


async def test_who_may_speak(world: World) -> None:
    w = world
    await w.refused(ErrorCode.SESSION_NOT_OPEN, w.speak("chair"))
    await w.open()  # statements: the floor holder and the chair
    await w.refused(ErrorCode.OBSERVER_CANNOT_SPEAK, w.speak("listener", seat=Seat.OBSERVER))
    await w.refused(ErrorCode.FLOOR_REQUIRED, w.speak("member"))
    await w.refused(ErrorCode.VALIDATION, w.speak("chair", body="  "))
    await w.refused(ErrorCode.VALIDATION, w.speak("chair", body="bell \x07"))
    await w.refused(ErrorCode.TOO_LARGE, w.speak("chair", body="x" * 4001))
    said = await w.done(w.speak("chair", body="  Welcome.  "), "intervention", "post")
    assert said["body"] == "Welcome." and said["on_floor"] is False
    assert said["user_id"] == w["chair"].id and said["family"] == "government"
    await w.raise_hand("business")
    await w.give(limit_s=60)
    await w.refused(ErrorCode.FLOOR_HELD, w.speak("member"))
    on_floor = await w.done(w.speak("business", seat=Seat.REMOTE), "intervention", "post")
    assert on_floor["on_floor"] is True and on_floor["seat"] == "remote"
    row = await w.session.scalar(
        select(RoomEvent.data).where(
            RoomEvent.seq == on_floor["seq"], RoomEvent.room_id == w.room_id
        )
    )
    assert row is not None and row["body"] == "Thank you, Chair."
    await end_read(w.session)


async def test_in_an_open_debate_anyone_seated_speaks_briefly(world: World) -> None:
    w = world
    await w.open(SessionFormat.OPEN_DEBATE)
    await w.done(w.speak("member", body="A short point."), "intervention", "post")
    await w.refused(ErrorCode.TOO_LARGE, w.speak("member", body="x" * 501))
    await w.refused(ErrorCode.OBSERVER_CANNOT_SPEAK, w.speak("activist", seat=Seat.OBSERVER))


# -- seats and presence ---------------------------------------------------------------------


async def test_seats_presence_and_attendance(world: World) -> None:
    w = world
    session_row = await w.open()
    w.take()
    conn = await w.seat("member", Seat.REMOTE)
    update_ = w.take()
    assert update_ == [
        {
            "type": "presence",
            "op": "update",
            "room": w.room_id,
            "left": [],
            "users": [
                {
                    "user_id": w["member"].id,
                    "name": "Member",
                    "family": "government",
                    "organization": "Org",
                    "country": "CH",
                    "seat": "remote",
                    "remote": True,
                    "observer": False,
                    "ver": 1,
                }
            ],
        }
    ]
    rows = await w.rows()
    assert rows["presence"] == [(conn, w["member"].id, "remote")]
    assert rows["attendance"] == [(session_row.id, w["member"].id, "remote")]
    assert rows["room"][1] == 1 and rows["events"][-1][1:] == ("session", "open")

    # A second tab on the same seat: a row, no change anyone sees, attendance once.
    second = await w.seat("member", Seat.REMOTE)
    assert w.take() == []
    rows = await w.rows()
    assert len(rows["presence"]) == 2 and len(rows["attendance"]) == 1 and rows["room"][1] == 1

    # The civil society observer seat (one by default).
    watcher = await w.seat("activist", Seat.OBSERVER)
    assert w.take()[0]["users"][0]["observer"] is True
    again = await w.seat("activist", Seat.OBSERVER)  # a reconnect keeps the seat
    error = await w.refused(ErrorCode.NO_SEAT, w.seat("listener", Seat.OBSERVER))
    assert error.extra == {"seats": 1}
    await w.refused(ErrorCode.FORBIDDEN, w.seat("outsider", Seat.OBSERVER))  # no seats
    await w.refused(ErrorCode.FORBIDDEN, w.seat("outsider", Seat.PARTICIPANT))
    await w.refused(ErrorCode.FORBIDDEN, w.seat("member", Seat.OBSERVER))

    presence = await seats.get_presence(w.session, w.room_id)
    await end_read(w.session)
    assert presence["ver"] == 2
    assert [u["user_id"] for u in presence["users"]] == [w["member"].id, w["activist"].id]

    # Leaving: the first tab goes, the person stays; the last goes, the person leaves.
    await seats.do_leave_seat(w.session, w.broker, w.room_id, user=w["member"], connection_id=conn)
    stayed = w.take()
    assert stayed[0]["users"][0]["user_id"] == w["member"].id and stayed[0]["left"] == []
    await seats.do_leave_seat(
        w.session, w.broker, w.room_id, user=w["member"], connection_id=second
    )
    assert w.take()[0]["left"] == [{"user_id": w["member"].id, "ver": 4}]
    await seats.do_leave_seat(
        w.session, w.broker, w.room_id, user=w["member"], connection_id=second
    )
    assert w.take() == []  # already gone: nothing to say
    for connection in (watcher, again):
        await seats.do_leave_seat(
            w.session, w.broker, w.room_id, user=w["activist"], connection_id=connection
        )
    # The seat is free again.
    await w.seat("listener", Seat.OBSERVER)
    rows = await w.rows()
    assert [(p[1], p[2]) for p in rows["presence"]] == [(w["listener"].id, "observer")]
    assert sorted(rows["attendance"]) == sorted(
        [
            (session_row.id, w["member"].id, "remote"),
            (session_row.id, w["activist"].id, "observer"),
            (session_row.id, w["listener"].id, "observer"),
        ]
    )
    assert not [e for e in await w.session.scalars(select(RoomEvent.type)) if e == "presence"]
    await end_read(w.session)


async def join_cost(w: World, who: str) -> tuple[int, int, list[int]]:
    """The statements a join runs and the rows they return (the seat, then the presence
    snapshot), and who the snapshot shows."""
    engine = w.session.bind.sync_engine  # type: ignore[union-attr]
    counted = [0, 0]

    def count(_conn: Any, cursor: Any, *_args: Any) -> None:
        counted[0] += 1
        # The async drivers' cursors hold every row of the result once it has run.
        counted[1] += len(cursor._rows)

    listen(engine, "after_cursor_execute", count)
    try:
        await w.seat(who, Seat.REMOTE)
        presence = await seats.get_presence(w.session, w.room_id)
        await end_read(w.session)
    finally:
        remove(engine, "after_cursor_execute", count)
    return counted[0], counted[1], [u["user_id"] for u in presence["users"]]


async def test_a_join_costs_the_same_however_many_are_connected(world: World) -> None:
    """Nothing on a join's path reads a row per connection: with 300 more connections
    in the room (one account on many screens) a join runs the same statements and reads
    the same rows."""
    w = world
    await w.open()
    await w.seat("chair", Seat.PARTICIPANT)
    await w.seat("member", Seat.REMOTE)
    statements, rows, shown = await join_cost(w, "member")
    assert rows > 0
    assert shown == [w["chair"].id, w["member"].id]
    now = datetime.now(UTC)
    async with w.session.begin():
        await w.session.execute(
            insert(Presence),
            [
                {
                    "id": f"screen-{n:04d}",
                    "room_id": w.room_id,
                    "user_id": w[who].id,
                    "seat": "remote",
                    "family": "government",
                    "worker": "w2",
                    "joined_at": now + timedelta(microseconds=n),
                    "seen_at": now,
                }
                for n in range(300)
                for who in ["member" if n % 3 else "chair"]
            ],
        )
    assert await join_cost(w, "member") == (statements, rows, shown)


async def test_a_seat_taken_with_no_session_open_counts_no_attendance(world: World) -> None:
    w = world
    await w.seat("secretariat", Seat.PARTICIPANT)
    rows = await w.rows()
    assert len(rows["presence"]) == 1 and rows["attendance"] == []


async def test_connections_of_a_dead_worker_are_swept(world: World) -> None:
    w = world
    mine = await w.seat("member", Seat.PARTICIPANT)
    theirs = await w.seat("business", Seat.REMOTE)
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    async with w.session.begin():
        await w.session.execute(
            update(Presence).where(Presence.id == theirs).values(worker="w2", seen_at=long_ago)
        )
        await w.session.execute(
            update(Presence).where(Presence.id == mine).values(seen_at=long_ago)
        )
    w.take()
    await seats.do_touch_presence(w.session, worker="w1")  # w1 is alive
    assert await seats.do_sweep_presence(w.session, w.broker) == 1
    assert w.take() == [
        {
            "type": "presence",
            "op": "update",
            "room": w.room_id,
            "users": [],
            "left": [{"user_id": w["business"].id, "ver": 3}],
        }
    ]
    rows = await w.rows()
    assert [p[0] for p in rows["presence"]] == [mine]
    assert await seats.do_sweep_presence(w.session, w.broker) == 0
    assert w.take() == []


async def test_the_chair_sets_the_observer_seats(world: World) -> None:
    w = world
    await w.refused(
        ErrorCode.FORBIDDEN,
        seats.do_set_observer_policy(
            w.session, w.broker, w.room_id, user=w["member"], seats={"civil_society": 2}
        ),
    )
    bad: object
    for bad in ([], {"civil_society": -1}, {"civil_society": True}, {"media": 1}):
        await w.refused(
            ErrorCode.VALIDATION,
            seats.do_set_observer_policy(
                w.session, w.broker, w.room_id, user=w["chair"], seats=bad
            ),
        )
    event = await w.done(
        seats.do_set_observer_policy(
            w.session,
            w.broker,
            w.room_id,
            user=w["chair"],
            seats={"private_sector": 1, "civil_society": 0},
        ),
        "room",
        "seats",
    )
    assert event["observer_seats"] == {"private_sector": 1}
    assert (await w.rows())["room"][3] == {"private_sector": 1}
    await w.seat("outsider", Seat.OBSERVER)
    await w.refused(ErrorCode.FORBIDDEN, w.seat("activist", Seat.OBSERVER))


async def test_a_damaged_stored_policy_reads_as_the_default(world: World) -> None:
    w = world
    async with w.session.begin():
        await w.session.execute(
            update(Room).where(Room.id == w.room_id).values(observer_seats={"media": "lots"})
        )
    assert (await w.state())["observer_seats"] == {"civil_society": 1}
    await w.seat("activist", Seat.OBSERVER)


# -- transcripts ----------------------------------------------------------------------------


async def test_the_transcript_of_a_closed_session(world: World) -> None:
    w = world
    opened = await w.open()
    with pytest.raises(ForumError) as caught:
        await room_reads.get_transcript(w.session, opened.id)
    assert caught.value.code is ErrorCode.NOT_FOUND
    await end_read(w.session)
    await w.seat("member", Seat.REMOTE)
    await w.seat("activist", Seat.OBSERVER)
    await w.speak("chair", body="Opening.")
    await w.raise_hand("member", Seat.REMOTE)
    await w.give(limit_s=90)
    await w.speak("member", body="Statement.", seat=Seat.REMOTE)
    await speaking.do_take_floor(w.session, w.broker, w.room_id, user=w["chair"])
    await speaking.do_set_queue_policy(
        w.session, w.broker, w.room_id, user=w["chair"], policy=QueuePolicy.FIFO
    )
    await rooms.do_close_session(
        w.session, w.broker, w.room_id, user=w["chair"], session_id=opened.id
    )
    document = await room_reads.get_transcript(w.session, opened.id)
    await end_read(w.session)
    assert document["group"]["slug"] == GROUP
    assert document["attendance"] == {
        "people": 2,
        "by_family": {"government": {"remote": 1}, "civil_society": {"observer": 1}},
    }
    kinds = [(e["type"], e["op"]) for e in document["events"]]
    assert kinds == [
        ("session", "open"),
        ("intervention", "post"),
        ("floor", "give"),
        ("intervention", "post"),
        ("floor", "take"),
        ("session", "close"),
    ]
    give, take = document["events"][2], document["events"][4]
    assert (give["user_id"], give["limit_s"], give["name"]) == (w["member"].id, 90, "Member")
    assert (take["user_id"], take["reason"]) == (w["member"].id, "chair")
    assert [e["body"] for e in document["events"] if e["type"] == "intervention"] == [
        "Opening.",
        "Statement.",
    ]
    with pytest.raises(ForumError) as missing:
        await room_reads.get_transcript(w.session, 10**9)
    assert missing.value.code is ErrorCode.NOT_FOUND
    await end_read(w.session)


# -- initial state plus events equals fresh state -------------------------------------------


def apply(state: dict[str, Any], event: dict[str, Any]) -> None:
    """What docs/protocol.md tells a client to do with an event."""
    assert event["seq"] == state["seq"] + 1, "a gap"
    for key in STATE_KEYS:
        if key in event:
            state[key] = event[key]
    state["seq"] = event["seq"]


async def test_initial_state_plus_events_equals_fresh_state(world: World) -> None:
    w = world
    client = await w.state()
    w.take()
    chair = w["chair"]

    async def step(action: Awaitable[Any]) -> None:
        await action
        for event in w.events():
            apply(client, event)
        w.take()
        assert client == await w.state()

    await step(w.schedule())
    scheduled = await room_reads.list_sessions(w.session, w.room_id)
    await end_read(w.session)
    await step(
        rooms.do_open_session(
            w.session, w.broker, w.room_id, user=chair, session_id=scheduled[0].id
        )
    )
    for who in ("member", "business", "coordinator", "igo"):
        await step(w.raise_hand(who))
    await step(
        speaking.do_set_queue_policy(
            w.session, w.broker, w.room_id, user=chair, policy=QueuePolicy.ROTATION
        )
    )
    await step(
        speaking.do_move_in_queue(
            w.session, w.broker, w.room_id, user=chair, target_id=w["igo"].id, position=0
        )
    )
    await step(w.give(limit_s=60))
    await step(speaking.do_extend_floor(w.session, w.broker, w.room_id, user=chair, seconds=15))
    await step(w.speak("chair"))
    await step(w.give())
    await step(
        speaking.do_lower_hand(
            w.session, w.broker, w.room_id, user=w["coordinator"], target_id=None
        )
    )
    await step(speaking.do_take_floor(w.session, w.broker, w.room_id, user=chair))
    await step(
        seats.do_set_observer_policy(
            w.session, w.broker, w.room_id, user=chair, seats={"civil_society": 3}
        )
    )
    await step(w.give(limit_s=5))
    await step(
        speaking.do_expire_floor(
            w.session,
            w.broker,
            w.room_id,
            turn_seq=client["floor"]["turn"],
            now=datetime.now(UTC) + timedelta(minutes=1),
        )
    )
    await step(
        speaking.do_set_queue_policy(
            w.session, w.broker, w.room_id, user=chair, policy=QueuePolicy.FIFO
        )
    )
    await step(
        rooms.do_close_session(
            w.session, w.broker, w.room_id, user=chair, session_id=scheduled[0].id
        )
    )
    assert client["seq"] == (await w.rows())["room"][0] == 19


async def test_a_failed_publish_does_not_undo_or_fail_a_committed_change(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    w = world

    async def down(channel: str, message: Message) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(w.broker, "publish", down)
    row = await w.schedule()
    assert (await w.rows())["sessions"] == [(row.id, "scheduled", None, None)]
    assert "publishing to room" in caplog.text


# -- a change of standing reaches the room ------------------------------------------------


async def group_of(w: World) -> Group:
    group = await w.session.scalar(select(Group).where(Group.slug == GROUP))
    assert group is not None
    await end_read(w.session)
    return group


async def listen_to(w: World, who: str) -> list[dict[str, Any]]:
    """What is published on the person's own channel from now on."""
    heard: list[dict[str, Any]] = []

    def collect(channel: str, message: Message) -> None:
        heard.append(dict(message))

    await w.broker.subscribe(user_channel(w[who].id), collect)
    return heard


def set_role(w: World, group: Group, actor: str, who: str, role: Role | None) -> Awaitable[Any]:
    return groups.do_set_member_role(
        w.session, w.broker, actor=w[actor], slug=group.slug, user_id=w[who].id, role=role
    )


def notice(w: World, role: str | None, connections: dict[str, str | None]) -> dict[str, Any]:
    return {
        "type": "seat",
        "op": "standing",
        "room": w.room_id,
        "role": role,
        "chair": role in ("chair", "coordinator"),
        "connections": connections,
    }


async def test_leaving_the_group_ends_the_seats_and_takes_the_hand_down(world: World) -> None:
    w = world
    group = await group_of(w)
    await w.open()
    first = await w.seat("member", Seat.PARTICIPANT)
    second = await w.seat("member", Seat.REMOTE)
    await w.seat("business", Seat.PARTICIPANT)
    await w.raise_hand("member")
    await w.raise_hand("business")
    heard = await listen_to(w, "member")
    before = await w.rows()
    w.take()

    await groups.do_leave_group(w.session, w.broker, user=w["member"], slug=group.slug)

    event, presence = w.take()
    assert (event["type"], event["op"], event["seq"]) == ("queue", "lower", before["room"][0] + 1)
    assert (event["user_id"], event["actor"], event["reason"]) == (
        w["member"].id,
        w["member"].id,
        "standing",
    )
    assert [e["user_id"] for e in event["queue"]] == [w["business"].id]
    assert presence == {
        "type": "presence",
        "op": "update",
        "room": w.room_id,
        "users": [],
        "left": [{"user_id": w["member"].id, "ver": before["room"][1] + 1}],
    }
    rows = await w.rows()
    assert rows["room"][0] == event["seq"] and rows["room"][5] == event["queue"]
    assert rows["events"][-1] == (event["seq"], "queue", "lower")
    assert [row for row in rows["presence"] if row[1] == w["member"].id] == []
    assert heard == [
        {"type": "membership", "op": "update", "group": GROUP, "role": None},
        notice(w, None, {first: None, second: None}),
    ]
    # The seat the connections remember is refused; so is the remembered remote one.
    await w.refused(ErrorCode.SEAT_REVOKED, w.raise_hand("member"))
    await w.refused(ErrorCode.SEAT_REVOKED, w.speak("member", seat=Seat.REMOTE))


async def test_removal_by_the_chair_returns_the_floor(world: World) -> None:
    w = world
    group = await group_of(w)
    await w.open()
    connection = await w.seat("member", Seat.REMOTE)
    await w.raise_hand("member")
    await w.give(limit_s=60)
    heard = await listen_to(w, "member")
    w.take()
    taken = await w.done(set_role(w, group, "chair", "member", None), "floor", "take")
    assert (taken["floor"], taken["user_id"], taken["reason"], taken["actor"]) == (
        None,
        w["member"].id,
        "standing",
        w["chair"].id,
    )
    assert (await w.rows())["room"][6] is None
    assert heard[-1] == notice(w, None, {connection: None})
    await w.refused(ErrorCode.SEAT_REVOKED, w.speak("member", seat=Seat.REMOTE))


async def test_a_new_role_moves_the_seat(world: World) -> None:
    w = world
    group = await group_of(w)
    session_row = await w.open()
    watcher = await w.seat("activist", Seat.OBSERVER)
    heard = await listen_to(w, "activist")
    w.take()

    # An observer of the room made member: a participant seat, no numbered event.
    await set_role(w, group, "chair", "activist", Role.MEMBER)
    (moved,) = w.take()
    assert moved["type"] == "presence" and moved["left"] == []
    assert [(u["user_id"], u["seat"], u["observer"]) for u in moved["users"]] == [
        (w["activist"].id, "participant", False)
    ]
    rows = await w.rows()
    assert rows["presence"] == [(watcher, w["activist"].id, "participant")]
    assert (session_row.id, w["activist"].id, "participant") in rows["attendance"]
    assert heard[-1] == notice(w, "member", {watcher: "participant"})
    await w.done(w.raise_hand("activist"), "queue", "raise")

    # Made observer again: the observer seat (free since), and the hand comes down.
    lowered = await w.done(set_role(w, group, "chair", "activist", Role.OBSERVER), "queue", "lower")
    assert lowered["queue"] == [] and lowered["reason"] == "standing"
    (presence,) = [m for m in w.published if m["type"] == "presence"]
    assert presence["users"][0]["seat"] == "observer" and presence["users"][0]["observer"]
    assert heard[-1] == notice(w, "observer", {watcher: "observer"})
    await w.refused(ErrorCode.OBSERVER_CANNOT_SPEAK, w.raise_hand("activist", Seat.OBSERVER))

    # A government member made observer: the room has no observer seat for them.
    remote = await w.seat("member", Seat.REMOTE)
    w.take()
    await set_role(w, group, "chair", "member", Role.OBSERVER)
    (gone,) = w.take()
    assert gone["type"] == "presence" and [u["user_id"] for u in gone["left"]] == [w["member"].id]
    assert (remote, w["member"].id, "remote") not in (await w.rows())["presence"]

    # The same role again changes nothing.
    await set_role(w, group, "chair", "business", Role.MEMBER)
    assert w.take() == []


async def test_a_chair_made_member_keeps_the_seat_not_the_controls(world: World) -> None:
    w = world
    group = await group_of(w)
    await w.open()
    connection = await w.seat("chair", Seat.PARTICIPANT)
    await w.raise_hand("member")
    heard = await listen_to(w, "chair")
    w.take()
    await set_role(w, group, "secretariat", "chair", Role.MEMBER)
    assert w.take() == []  # the seat and the queue are as they were
    assert heard[-1] == notice(w, "member", {connection: "participant"})
    await w.refused(ErrorCode.FORBIDDEN, w.give())


async def test_a_refused_change_of_standing_changes_nothing_in_the_room(world: World) -> None:
    w = world
    group = await group_of(w)
    await w.open()
    await w.seat("business", Seat.PARTICIPANT)
    await w.raise_hand("business")
    heard = await listen_to(w, "business")
    await w.refused(ErrorCode.FORBIDDEN, set_role(w, group, "member", "business", None))
    await w.refused(
        ErrorCode.NOT_MEMBER,
        groups.do_leave_group(w.session, w.broker, user=w["outsider"], slug=group.slug),
    )
    assert heard == []


async def test_a_stale_seat_is_refused_though_no_change_reached_it(world: World) -> None:
    w = world
    await w.open(SessionFormat.OPEN_DEBATE)
    await w.seat("member", Seat.PARTICIPANT)
    await w.seat("chair", Seat.PARTICIPANT)
    await w.raise_hand("business")
    # Roles change behind the room's back: no reseat, nothing published.
    async with w.session.begin():
        for who, role in (("member", "observer"), ("chair", "member")):
            await w.session.execute(
                update(Membership).where(Membership.user_id == w[who].id).values(role=role)
            )
        await w.session.execute(delete(Membership).where(Membership.user_id == w["business"].id))
    await w.refused(ErrorCode.SEAT_REVOKED, w.raise_hand("member"))
    await w.refused(ErrorCode.SEAT_REVOKED, w.speak("member", body="Still here?"))
    await w.refused(ErrorCode.SEAT_REVOKED, w.speak("business", body="And I?"))
    await w.refused(ErrorCode.FORBIDDEN, w.give(target="business"))
    await w.refused(ErrorCode.TOO_LARGE, w.speak("chair", body="x" * 501))  # a member's 500


async def test_initial_state_plus_standing_changes_equals_fresh_state(world: World) -> None:
    w = world
    group = await group_of(w)
    client = await w.state()
    w.take()

    async def step(action: Awaitable[Any]) -> None:
        await action
        for event in w.events():
            apply(client, event)
        w.take()
        assert client == await w.state()

    await step(w.open())
    for who in ("member", "business", "igo", "coordinator"):
        await step(w.raise_hand(who))
    await step(w.give(target="igo"))
    await step(set_role(w, group, "chair", "igo", None))  # the floor back to the chair
    await step(set_role(w, group, "chair", "business", Role.OBSERVER))  # a hand down
    await step(groups.do_leave_group(w.session, w.broker, user=w["member"], slug=group.slug))
    await step(set_role(w, group, "secretariat", "coordinator", Role.MEMBER))  # no change
    assert [entry["user_id"] for entry in client["queue"]] == [w["coordinator"].id]
    assert client["floor"] is None and client["seq"] == (await w.rows())["room"][0]


async def test_a_change_of_standing_with_the_broker_down_is_still_done(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    w = world
    group = await group_of(w)
    await w.open()
    await w.seat("member", Seat.PARTICIPANT)
    await w.raise_hand("member")
    before = await w.rows()

    async def down(channel: str, message: Message) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(w.broker, "publish", down)
    await groups.do_leave_group(w.session, w.broker, user=w["member"], slug=group.slug)
    rows = await w.rows()
    assert rows["room"][0] == before["room"][0] + 1 and rows["room"][5] == []
    assert [row for row in rows["presence"] if row[1] == w["member"].id] == []
    # The room's event, then the membership and the seats on the person's own channel.
    assert "publishing to room" in caplog.text
    assert caplog.text.count(f"publishing to user {w['member'].id} failed") == 2
