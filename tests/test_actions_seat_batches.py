"""Joins and leaves in batches (`seats.do_arrive`, `seats.do_depart`) on a real database:
a batch runs the statements of one join, answers each request on its own, counts the
observer seats as one join after another would, and lets go of many in one
transaction with one presence update."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from forum.actions import seats
from forum.actions.seats import Departure, SeatRequest, WatchRequest
from forum.db.engine import end_read
from forum.db.models import Presence, Room, Spectator
from forum.domain.vocabulary import Seat
from forum.errors import ErrorCode, ForumError
from tests.capture import QueryCounter
from tests.room_world import World

# What a batch of joins into one room with a session open runs, however many it seats:
# the connections' current rows, the room's lock, the memberships, the seats
# people show, their attendance; the presence rows, the attendance rows and the room's
# presence version written.
BATCH_STATEMENTS = 8
# SQLite's BEGIN IMMEDIATE is a statement, PostgreSQL's BEGIN is not: left out.
NOT_COUNTED = ("BEGIN",)


def ask(w: World, who: str, seat: Seat, room_id: int | None = None) -> SeatRequest:
    return SeatRequest(room_id or w.room_id, w[who], seat, w.connection_id(), "w1")


def codes(outcomes: list[ForumError | None]) -> list[ErrorCode | None]:
    return [None if outcome is None else outcome.code for outcome in outcomes]


async def test_a_batch_runs_the_statements_of_one_join(
    world: World, count_queries: QueryCounter
) -> None:
    w = world
    await w.open()
    w.take()
    assert w.session.bind is not None
    with count_queries(w.session.bind, ignore=NOT_COUNTED) as one:
        assert await seats.do_arrive(w.session, w.broker, [ask(w, "member", Seat.REMOTE)]) == [None]
    cast = [("chair", Seat.PARTICIPANT), ("business", Seat.REMOTE), ("igo", Seat.PARTICIPANT)]
    many = [ask(w, *cast[n % 3]) for n in range(120)]
    with count_queries(w.session.bind, ignore=NOT_COUNTED) as batch:
        assert await seats.do_arrive(w.session, w.broker, many) == [None] * 120
    assert len(one) == len(batch) == BATCH_STATEMENTS, batch.statements
    inserts = [s for s in batch.statements if s.startswith("INSERT INTO room_presence")]
    assert len(inserts) == 1
    # One presence update for each batch, one entry per person, one version for all.
    first, second = w.take()
    assert [(u["user_id"], u["ver"]) for u in first["users"]] == [(w["member"].id, 1)]
    assert [(u["user_id"], u["seat"], u["ver"]) for u in second["users"]] == [
        (w["chair"].id, "participant", 2),
        (w["business"].id, "remote", 2),
        (w["igo"].id, "participant", 2),
    ]
    rows = await w.rows()
    assert len(rows["presence"]) == 121 and rows["room"][1] == 2
    assert len(rows["attendance"]) == 4


async def test_refusals_in_a_batch_leave_the_others_seated(world: World) -> None:
    w = world
    await w.open()
    w.take()
    requests = [
        ask(w, "member", Seat.REMOTE),
        ask(w, "outsider", Seat.PARTICIPANT),
        ask(w, "business", Seat.REMOTE),
        ask(w, "chair", Seat.PARTICIPANT, room_id=987_654),
        ask(w, "member", Seat.OBSERVER),
        ask(w, "member", Seat.PARTICIPANT),
    ]
    outcomes = await seats.do_arrive(w.session, w.broker, requests)
    assert codes(outcomes) == [
        None,
        ErrorCode.FORBIDDEN,
        None,
        ErrorCode.NOT_FOUND,
        ErrorCode.FORBIDDEN,
        None,
    ]
    rows = await w.rows()
    granted = [requests[n] for n in (0, 2, 5)]
    assert rows["presence"] == sorted((r.connection_id, r.user.id, r.seat.value) for r in granted)
    # The member shows the seat of their latest connection, asked for last.
    [update_] = w.take()
    assert [(u["user_id"], u["seat"]) for u in update_["users"]] == [
        (w["business"].id, "remote"),
        (w["member"].id, "participant"),
    ]
    assert update_["left"] == []


async def test_the_observer_seats_count_within_a_batch_as_joins_one_after_another(
    world: World,
) -> None:
    """One civil society observer seat and one for the private sector (the chair's
    policy): the first civil society observer of the batch takes it, the second is
    refused, the first's second connection keeps it."""
    w = world
    await seats.do_set_observer_policy(
        w.session,
        w.broker,
        w.room_id,
        user=w["chair"],
        seats={"civil_society": 1, "private_sector": 1},
    )
    w.take()
    requests = [
        ask(w, "activist", Seat.OBSERVER),
        ask(w, "listener", Seat.OBSERVER),
        ask(w, "activist", Seat.OBSERVER),
        ask(w, "outsider", Seat.OBSERVER),
        ask(w, "listener", Seat.OBSERVER),
    ]
    outcomes = await seats.do_arrive(w.session, w.broker, requests)
    assert codes(outcomes) == [None, ErrorCode.NO_SEAT, None, None, ErrorCode.NO_SEAT]
    assert outcomes[1] is not None and outcomes[1].extra == {"seats": 1}
    rows = await w.rows()
    assert sorted(p[1] for p in rows["presence"]) == sorted(
        [w["activist"].id, w["activist"].id, w["outsider"].id]
    )
    # Once the seat is free, the next batch gives it to the next who asks.
    await seats.do_depart(
        w.session,
        w.broker,
        [Departure(w.room_id, requests[n].connection_id, w["activist"].id) for n in (0, 2)],
    )
    again = [ask(w, "listener", Seat.OBSERVER), ask(w, "activist", Seat.OBSERVER)]
    assert codes(await seats.do_arrive(w.session, w.broker, again)) == [None, ErrorCode.NO_SEAT]


async def test_leaves_go_in_one_transaction_with_one_update(
    world: World, count_queries: QueryCounter
) -> None:
    w = world
    people = [ask(w, "member", Seat.REMOTE) for _ in range(3)]
    people += [ask(w, "business", Seat.REMOTE), ask(w, "chair", Seat.PARTICIPANT)]
    watchers = [WatchRequest(w.room_id, f"s{n}", "w1") for n in range(3)]
    assert await seats.do_arrive(w.session, w.broker, [*people, *watchers]) == [None] * 8
    ver = (await w.rows())["room"][1]
    w.take()
    leaving = [Departure(w.room_id, r.connection_id, r.user.id) for r in people[:4]]
    leaving += [Departure(w.room_id, "s0"), Departure(w.room_id, "s1")]
    leaving += [Departure(w.room_id, "gone-already", w["igo"].id), Departure(987_654, "nowhere")]
    assert w.session.bind is not None
    with count_queries(w.session.bind, ignore=NOT_COUNTED) as queries:
        await seats.do_depart(w.session, w.broker, leaving)
    # The rooms' locks, the seats' delete, the seats people still show, the
    # spectators' delete and count, the room's presence version.
    assert len(queries) == 7, queries.statements
    [update_] = w.take()
    assert update_ == {
        "type": "presence",
        "op": "update",
        "room": w.room_id,
        "users": [],
        "left": [
            {"user_id": w["member"].id, "ver": ver + 1},
            {"user_id": w["business"].id, "ver": ver + 1},
        ],
        "spectators": {"count": 1, "ver": ver + 1},
    }
    rows = await w.rows()
    assert rows["presence"] == [(people[4].connection_id, w["chair"].id, "participant")]
    assert rows["room"][1] == ver + 1
    left = list(await w.session.scalars(select(Spectator.id)))
    await end_read(w.session)
    assert left == ["s2"]
    # Nothing left to give up: nothing changes, nothing is said.
    await seats.do_depart(w.session, w.broker, leaving)
    assert w.take() == []
    assert (await w.session.scalar(select(Room.presence_ver).where(Room.id == w.room_id))) == (
        ver + 1
    )
    await end_read(w.session)


async def test_one_leaving_a_connection_keeps_the_seat_they_still_hold(world: World) -> None:
    w = world
    remote = ask(w, "member", Seat.REMOTE)
    here = ask(w, "member", Seat.PARTICIPANT)
    assert await seats.do_arrive(w.session, w.broker, [here, remote]) == [None, None]
    [joined] = w.take()
    assert [(u["user_id"], u["seat"]) for u in joined["users"]] == [(w["member"].id, "remote")]
    await seats.do_depart(
        w.session, w.broker, [Departure(w.room_id, remote.connection_id, w["member"].id)]
    )
    [update_] = w.take()
    assert [(u["user_id"], u["seat"]) for u in update_["users"]] == [
        (w["member"].id, "participant")
    ]
    assert update_["left"] == []


async def test_a_sweep_shows_someone_on_the_seat_of_their_live_connection(world: World) -> None:
    """A dead worker's connection goes; its person, seated by a live one elsewhere,
    stays, shown on that seat (read for the update: the sweep knows only ids)."""
    w = world
    live = ask(w, "member", Seat.PARTICIPANT)
    dead = SeatRequest(w.room_id, w["member"], Seat.REMOTE, w.connection_id(), "w2")
    assert await seats.do_arrive(w.session, w.broker, [live, dead]) == [None, None]
    async with w.session.begin():
        await w.session.execute(
            update(Presence)
            .where(Presence.id == dead.connection_id)
            .values(seen_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    w.session.expunge_all()
    w.take()
    assert await seats.do_sweep_presence(w.session, w.broker) == 1
    [update_] = w.take()
    assert [(u["user_id"], u["seat"], u["name"]) for u in update_["users"]] == [
        (w["member"].id, "participant", "Member")
    ]
    assert update_["left"] == []
