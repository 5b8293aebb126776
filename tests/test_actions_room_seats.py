"""Seats, presence and attendance through the room actions on a real database: what a
join writes, reads and publishes, the observer seats, and the sweep of dead workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from forum.actions import presence as presences
from forum.actions import seats
from forum.db.engine import end_read
from forum.db.models import Presence, Room, RoomEvent
from forum.domain.vocabulary import Seat
from forum.errors import ErrorCode
from tests.capture import QueryCounter
from tests.room_world import World


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

    presence = await presences.get_presence(w.session, w.room_id)
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


async def join_cost(w: World, who: str, count_queries: QueryCounter) -> tuple[int, int, list[int]]:
    """The statements a join runs and the rows they return (the seat, then the presence
    snapshot), and who the snapshot shows."""
    assert w.session.bind is not None
    with count_queries(w.session.bind) as queries:
        await w.seat(who, Seat.REMOTE)
        presence = await presences.get_presence(w.session, w.room_id)
        await end_read(w.session)
    return len(queries), queries.rows, [u["user_id"] for u in presence["users"]]


async def test_a_join_costs_the_same_however_many_are_connected(
    world: World, count_queries: QueryCounter
) -> None:
    """Nothing on a join's path reads a row per connection: with 300 more connections
    in the room (one account on many screens) a join runs the same statements and reads
    the same rows."""
    w = world
    await w.open()
    await w.seat("chair", Seat.PARTICIPANT)
    await w.seat("member", Seat.REMOTE)
    statements, rows, shown = await join_cost(w, "member", count_queries)
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
    assert await join_cost(w, "member", count_queries) == (statements, rows, shown)


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
