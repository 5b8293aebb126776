"""The clocks of live rooms (`forum.ws.timers`), against a real database: a turn's
time running out ends it through `do_expire_floor`, and only the turn it was set for."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from forum.db.engine import make_sessionmaker
from forum.db.models import Room
from forum.domain.vocabulary import Seat
from forum.wire.room import Floor
from forum.ws import timers as timers_module
from forum.ws.hub import Hub
from forum.ws.timers import Timers
from tests.room_world import World


def timers_of(w: World) -> Timers:
    assert isinstance(w.session.bind, AsyncEngine)
    sessionmaker = make_sessionmaker(w.session.bind)
    return Timers(sessionmaker, w.broker, Hub(sessionmaker, w.broker, send_queue=8))


async def floor_given(w: World, limit_s: int | None = 1) -> Floor:
    await w.open()
    await w.seat("member", Seat.PARTICIPANT)
    await w.raise_hand("member")
    event = await w.give(limit_s=limit_s)
    w.take()
    floor: Floor = event.data["floor"]
    return floor


async def expired(w: World, wait: float) -> list[dict[str, object]]:
    for _ in range(int(wait / 0.05)):
        taken = [e for e in w.events() if e["type"] == "floor" and e["op"] == "take"]
        if taken:
            return taken
        await asyncio.sleep(0.05)
    return []


async def test_the_timers_end_a_turn_whose_time_is_up_through_the_action(world: World) -> None:
    w = world
    floor = await floor_given(w)
    timers = timers_of(w)
    timers.floor_changed(w.room_id, floor)
    try:
        taken = await expired(w, wait=3)
    finally:
        await timers.stop()
    assert [(e["reason"], e["user_id"], e["actor"]) for e in taken] == [
        ("expired", w["member"].id, None)
    ]
    room = await w.session.get(Room, w.room_id, populate_existing=True)
    assert room is not None and room.floor is None and room.last_seq == taken[0]["seq"]


async def test_a_floor_that_changed_stops_the_timer_of_the_old_one(world: World) -> None:
    w = world
    floor = await floor_given(w)
    timers = timers_of(w)
    timers.floor_changed(w.room_id, floor)
    # The chair took the floor back by hand, or the room closed on this worker.
    timers.floor_changed(w.room_id, None)
    try:
        assert await expired(w, wait=1.6) == []
    finally:
        await timers.stop()
    room = await w.session.get(Room, w.room_id, populate_existing=True)
    assert room is not None and room.floor is not None


async def test_a_timer_set_for_an_earlier_turn_ends_nothing(world: World) -> None:
    w = world
    floor = await floor_given(w)
    timers = timers_of(w)
    # A timer left from an older turn of the same room fires now.
    timers.floor_changed(
        w.room_id, {**floor, "turn": floor["turn"] - 1, "ends_at": floor["started_at"]}
    )
    try:
        assert await expired(w, wait=0.5) == []
    finally:
        await timers.stop()
    room = await w.session.get(Room, w.room_id, populate_existing=True)
    assert room is not None and room.floor == floor


async def test_the_timers_stop_when_a_cancelled_query_comes_out_as_an_error(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancellation delivered inside a database call may come out as the driver's
    error, which the loop logs and survives: the worker's shutdown must end anyway."""
    timers = timers_of(world)
    started = asyncio.Event()

    async def end_windows() -> int:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise RuntimeError("the driver's error for a cancelled query") from None
        return 0

    monkeypatch.setattr(timers_module, "WINDOW_TICK_S", 0.01)
    monkeypatch.setattr(timers, "end_windows", end_windows)
    await timers.start()
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(timers.stop(), 5)
