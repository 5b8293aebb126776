"""An intervention on SQLite goes through the grouped blocks (`forum.actions.
intervene_block`); the edges of that path, at the action: an unknown room, a caller
already inside a transaction, a speaker whose row the session has expired, and a writer
cancelled once its group began, whose committed intervention is still published."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from forum.actions import speaking
from forum.db.engine import end_read, make_sessionmaker
from forum.db.models import RoomEvent
from forum.domain.sessions import SessionFormat
from forum.domain.vocabulary import Seat
from forum.errors import ErrorCode
from tests.group_support import cancel_once_grouped
from tests.room_world import World


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The grouped path is SQLite's (PostgreSQL commits each intervention in its own
    transaction, tested with the rest of the floor): these tests run on SQLite alone."""
    return sqlite_url


async def test_an_intervention_in_no_room_is_not_found_and_writes_nothing(world: World) -> None:
    w = world
    await w.open(SessionFormat.OPEN_DEBATE)
    caught = await w.refused(
        ErrorCode.NOT_FOUND,
        speaking.do_intervene(
            w.session, w.broker, 10**6, user=w["member"], seat=Seat.PARTICIPANT, body="Hello."
        ),
    )
    assert caught.message == "No such room."


async def test_an_intervention_must_be_its_own_transaction(world: World) -> None:
    w = world
    await w.open(SessionFormat.OPEN_DEBATE)
    w.take()
    async with w.session.begin():
        with pytest.raises(RuntimeError, match="outermost transaction"):
            await w.speak("member", body="Inside another.")
    assert w.take() == []


async def test_a_speaker_whose_row_expired_is_read_again(world: World) -> None:
    w = world
    await w.open(SessionFormat.OPEN_DEBATE)
    member = await w.session.merge(w["member"])
    member_id, family = member.id, member.family
    await end_read(w.session)
    w.session.expire(member)
    said = await w.done(
        speaking.do_intervene(
            w.session, w.broker, w.room_id, user=member, seat=Seat.PARTICIPANT, body="Read again."
        ),
        "intervention",
        "post",
    )
    assert said["user_id"] == member_id and said["family"] == family


async def test_a_speaker_cancelled_once_the_group_began_is_still_heard(world: World) -> None:
    w = world
    engine = w.session.bind
    assert isinstance(engine, AsyncEngine) and engine.dialect.name == "sqlite"
    await w.open(SessionFormat.OPEN_DEBATE)
    w.take()
    member = w["member"]
    sessionmaker = make_sessionmaker(engine)

    async def speak() -> None:
        async with sessionmaker() as session:
            await speaking.do_intervene(
                session, w.broker, w.room_id, user=member, seat=Seat.PARTICIPANT, body="Then gone."
            )

    await cancel_once_grouped(engine, speak, w.captured)
    [heard] = w.take()
    assert heard["type"] == "intervention" and heard["body"] == "Then gone."
    stored = await w.session.scalar(
        select(RoomEvent.data).where(RoomEvent.room_id == w.room_id, RoomEvent.seq == heard["seq"])
    )
    assert stored is not None and stored["body"] == "Then gone."
    await end_read(w.session)
