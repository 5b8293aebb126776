"""Joins that arrive together over real WebSockets are seated together: each peer still
gets its own answer (joined, or its own refusal), the observer seats hold, and when
they all go their seats go in as few transactions."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from sqlalchemy import func, select

from forum.db.models import Presence, Spectator
from tests.people import Person, person
from tests.rooms_support import peer
from tests.support import LiveServer


async def test_joins_arriving_together_are_answered_each_on_its_own(server: LiveServer) -> None:
    members = [await person(server, role="member") for _ in range(6)]
    observers = [await person(server, family="civil_society") for _ in range(2)]
    outsider = await person(server, family="private_sector")
    cast: list[tuple[Person | None, str]] = [(who, "remote") for who in members]
    cast += [(who, "observer") for who in observers]
    cast += [(outsider, "participant"), (None, "spectator"), (None, "spectator")]
    seating = server.state["seating"]
    async with AsyncExitStack() as stack:
        peers = [await stack.enter_async_context(peer(server, who)) for who, _ in cast]
        answers = await asyncio.gather(
            *(p.join(seat) for p, (_, seat) in zip(peers, cast, strict=True))
        )
        kinds = [a["type"] if a["type"] == "joined" else a["code"] for a in answers]
        assert kinds[:6] == ["joined"] * 6
        # One civil society observer seat: one of the two takes it, the other is told.
        assert sorted(kinds[6:8]) == ["joined", "no_seat_available"]
        assert kinds[8:] == ["forbidden", "joined", "joined"]
        assert seating.arrivals.largest > 1
        # Each `joined` shows its own seat, and the room with the person in it.
        for answer, (who, seat) in zip(answers, cast, strict=True):
            if answer["type"] == "joined":
                assert answer["seat"] == seat
                if who is not None:
                    shown = {u["user_id"]: u["seat"] for u in answer["presence"]["users"]}
                    assert shown[who.id] == seat
        departed = seating.departures.batches
    # Everyone went at once: their seats went in fewer transactions than there were seats.
    for _ in range(100):
        async with server.state["sessionmaker"]() as session:
            seats = await session.scalar(select(func.count()).select_from(Presence))
            watching = await session.scalar(select(func.count()).select_from(Spectator))
        if seats == watching == 0:
            break
        await asyncio.sleep(0.05)
    assert seats == watching == 0
    assert seating.departures.batches - departed < 9
