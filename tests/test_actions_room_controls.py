"""Room actions the live page needs: lowering every hand, moving a connection to another
seat, and counting signed-out spectators; SQLite and PostgreSQL, rows and published
events asserted together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from forum.actions import presence as presences
from forum.actions import room_reads, rooms, seats, speaking, spectators
from forum.actions.room_reads import room_for
from forum.actions.rooms import SessionDraft
from forum.actions.session_edits import do_edit_session
from forum.broker import room_channel
from forum.db.base import utcnow
from forum.db.engine import end_read
from forum.db.models import Presence, Room, RoomSession, Spectator
from forum.domain.sessions import SessionFormat
from forum.domain.vocabulary import Seat
from forum.errors import ErrorCode
from tests.capture import Events
from tests.room_world import World

OPEN = SessionFormat.OPEN_DEBATE


async def spectator_rows(w: World) -> list[tuple[str, int]]:
    rows = (
        await w.session.execute(select(Spectator.id, Spectator.room_id).order_by(Spectator.id))
    ).all()
    await end_read(w.session)
    return [(row[0], row[1]) for row in rows]


async def test_the_chair_lowers_every_hand(world: World) -> None:
    w = world
    await w.open()
    await w.refused(
        ErrorCode.CONFLICT,
        speaking.do_lower_all_hands(w.session, w.broker, w.room_id, user=w["chair"]),
    )
    await w.raise_hand("member")
    await w.raise_hand("business", Seat.REMOTE)
    await w.refused(
        ErrorCode.FORBIDDEN,
        speaking.do_lower_all_hands(w.session, w.broker, w.room_id, user=w["member"]),
    )
    event = await w.done(
        speaking.do_lower_all_hands(w.session, w.broker, w.room_id, user=w["chair"]),
        "queue",
        "lower_all",
    )
    assert event["queue"] == []
    assert event["user_ids"] == [w["member"].id, w["business"].id]
    assert (await w.state())["queue"] == []


async def test_a_connection_moves_to_another_seat_in_one_step(world: World) -> None:
    w = world
    await w.open()
    connection = await w.seat("member", Seat.PARTICIPANT)
    w.take()
    # The same connection asks for the remote seat: one row, on the new seat.
    await seats.do_take_seat(
        w.session,
        w.broker,
        w.room_id,
        user=w["member"],
        seat=Seat.REMOTE,
        connection_id=connection,
        worker="w1",
    )
    rows = await w.rows()
    assert rows["presence"] == [(connection, w["member"].id, "remote")]
    [moved] = w.take()
    assert moved["users"][0]["seat"] == "remote" and moved["left"] == []

    # A seat the person may not take is refused and the connection keeps its own.
    await w.refused(
        ErrorCode.FORBIDDEN,
        seats.do_take_seat(
            w.session,
            w.broker,
            w.room_id,
            user=w["member"],
            seat=Seat.OBSERVER,
            connection_id=connection,
            worker="w1",
        ),
    )
    watcher = await w.seat("activist", Seat.OBSERVER)
    await w.refused(
        ErrorCode.FORBIDDEN,
        seats.do_take_seat(
            w.session,
            w.broker,
            w.room_id,
            user=w["activist"],
            seat=Seat.PARTICIPANT,
            connection_id=watcher,
            worker="w1",
        ),
    )
    # The observer seat was not given away.
    await w.refused(ErrorCode.NO_SEAT, w.seat("listener", Seat.OBSERVER))


async def test_a_connection_moving_to_another_room_leaves_the_first(world: World) -> None:
    w = world
    connection = await w.seat("member", Seat.PARTICIPANT)
    # A room of another group, where the member has no role: an observer seat there
    # is refused (the seat policy offers none to government), and nothing moves.
    _group, other = await room_for(w.session, "africa-caucus")
    await end_read(w.session)
    other_id = other.id
    elsewhere = Events()
    await w.broker.subscribe(room_channel(other_id), elsewhere)
    w.take()
    await w.refused(
        ErrorCode.FORBIDDEN,
        seats.do_take_seat(
            w.session,
            w.broker,
            other_id,
            user=w["member"],
            seat=Seat.PARTICIPANT,
            connection_id=connection,
            worker="w1",
        ),
    )
    assert elsewhere.events == []
    # The activist takes a civil society caucus seat: given up here, taken there.
    watcher = await w.seat("activist", Seat.OBSERVER)
    w.take()
    await w.session.execute(
        update(Room).where(Room.id == other_id).values(observer_seats={"civil_society": 1})
    )
    await w.session.commit()
    await seats.do_take_seat(
        w.session,
        w.broker,
        other_id,
        user=w["activist"],
        seat=Seat.OBSERVER,
        connection_id=watcher,
        worker="w1",
    )
    here = w.take()
    assert [m["left"] for m in here] == [[{"user_id": w["activist"].id, "ver": 3}]]
    assert elsewhere.events[-1]["users"][0]["user_id"] == w["activist"].id
    rows = await w.session.execute(select(Presence.id, Presence.room_id).order_by(Presence.id))
    assert sorted(rows.all()) == sorted([(connection, w.room_id), (watcher, other_id)])
    await end_read(w.session)


async def test_spectators_are_counted_on_every_change(world: World) -> None:
    w = world
    await spectators.do_watch_room(w.session, w.broker, w.room_id, connection_id="s1", worker="w1")
    await spectators.do_watch_room(w.session, w.broker, w.room_id, connection_id="s2", worker="w2")
    counts = [m["spectators"] for m in w.take()]
    assert counts == [{"count": 1, "ver": 1}, {"count": 2, "ver": 2}]
    assert await spectator_rows(w) == [("s1", w.room_id), ("s2", w.room_id)]
    presence = await presences.get_presence(w.session, w.room_id)
    await end_read(w.session)
    assert presence == {"ver": 2, "users": [], "spectators": 2}

    await spectators.do_stop_watching(w.session, w.broker, w.room_id, connection_id="s1")
    await spectators.do_stop_watching(w.session, w.broker, w.room_id, connection_id="s1")
    assert [m["spectators"] for m in w.take()] == [{"count": 1, "ver": 3}]

    # Worker w1 refreshes its rows; w2 stopped (it died), so its spectator is swept.
    await w.session.execute(update(Spectator).values(seen_at=utcnow() - timedelta(minutes=5)))
    await w.session.commit()
    await spectators.do_watch_room(w.session, w.broker, w.room_id, connection_id="s3", worker="w1")
    await seats.do_touch_presence(w.session, worker="w1")
    w.take()
    assert await seats.do_sweep_presence(w.session, w.broker) == 1
    assert [m["spectators"] for m in w.take()] == [{"count": 1, "ver": 5}]
    assert await spectator_rows(w) == [("s3", w.room_id)]


async def test_the_chair_edits_a_session_until_it_opens(world: World) -> None:
    w = world
    row = await w.schedule(title="Draft title")
    start = datetime(2005, 11, 17, 9, tzinfo=UTC)
    draft = SessionDraft(
        "  Financing mechanisms ", "1. **Opening**", start, start + timedelta(hours=2), OPEN
    )

    def edit(who: str, session_id: int = row.id, changed: SessionDraft = draft) -> Any:
        return do_edit_session(
            w.session, w.broker, w.room_id, user=w[who], session_id=session_id, draft=changed
        )

    await w.refused(ErrorCode.FORBIDDEN, edit("member"))
    await w.refused(ErrorCode.NOT_FOUND, edit("chair", session_id=999_999))
    backwards = SessionDraft("Title", "", start, start - timedelta(hours=1), OPEN)
    await w.refused(ErrorCode.VALIDATION, edit("chair", changed=backwards))
    event = await w.done(edit("chair"), "session", "edit")
    assert event["scheduled"]["title"] == "Financing mechanisms"
    assert event["scheduled"]["format"] == "open_debate"
    assert "<strong>Opening</strong>" in event["scheduled"]["agenda_html"]
    assert event["scheduled"]["starts_at"] == start.isoformat()
    stored = await w.session.get(RoomSession, row.id, populate_existing=True)
    assert stored is not None and stored.title == "Financing mechanisms"
    await end_read(w.session)

    await rooms.do_open_session(w.session, w.broker, w.room_id, user=w["chair"], session_id=row.id)
    await w.refused(ErrorCode.CONFLICT, edit("chair"))


async def test_a_transcript_holds_only_its_own_session(world: World) -> None:
    """Scheduling or editing the next session while one sits is not part of its record."""
    w = world
    sitting = await w.open()
    following = await w.schedule(title="Next week")
    start = datetime(2005, 11, 23, 9, tzinfo=UTC)
    await do_edit_session(
        w.session,
        w.broker,
        w.room_id,
        user=w["chair"],
        session_id=following.id,
        draft=SessionDraft("Next week, renamed", "", start, start + timedelta(hours=1), OPEN),
    )
    await w.speak("chair")
    await rooms.do_close_session(
        w.session, w.broker, w.room_id, user=w["chair"], session_id=sitting.id
    )
    document = await room_reads.get_transcript(w.session, sitting.id)
    await end_read(w.session)
    assert [(e["type"], e["op"]) for e in document["events"]] == [
        ("session", "open"),
        ("intervention", "post"),
        ("session", "close"),
    ]
