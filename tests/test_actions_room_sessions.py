"""Scheduling, opening and closing a room's sessions, and their transcripts, against a
real database (SQLite and PostgreSQL): every change asserts the rows it wrote and the
event it published; every refusal its code, no row changed and nothing published."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions import room_reads, rooms, speaking
from forum.actions.room_reads import room_for
from forum.actions.rooms import SessionDraft
from forum.db.engine import end_read
from forum.db.models import Group, Room
from forum.domain.sessions import SessionFormat, SessionStatus
from forum.domain.speaking import QueuePolicy
from forum.domain.vocabulary import Seat
from forum.errors import ErrorCode, ForumError
from tests.capture import broker_down
from tests.factory import GROUP
from tests.room_world import World


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
    await w.policy(QueuePolicy.FIFO)
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


async def test_a_failed_publish_does_not_undo_or_fail_a_committed_change(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    w = world
    broker_down(monkeypatch, w.broker)
    row = await w.schedule()
    assert (await w.rows())["sessions"] == [(row.id, "scheduled", None, None)]
    assert "publishing to room" in caplog.text
