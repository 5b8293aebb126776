"""The queue of raised hands, its policies, the floor and who may speak, through the
room actions on a real database: rows and published events asserted together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from forum.actions import speaking
from forum.db.engine import end_read
from forum.db.models import RoomEvent
from forum.domain.sessions import SessionFormat
from forum.domain.speaking import QueuePolicy
from forum.domain.vocabulary import Seat
from forum.errors import ErrorCode
from tests.room_world import World


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
        w.move("business", 0, who="member"),
    )
    await w.refused(
        ErrorCode.VALIDATION,
        w.move("business", 3),
    )
    await w.refused(
        ErrorCode.CONFLICT,
        w.move("igo", 0),
    )
    moved = await w.done(
        w.move("business", 0),
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
        w.policy(QueuePolicy.ROTATION, who="business"),
    )
    policy = await w.done(
        w.policy(QueuePolicy.ROTATION),
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

    await w.policy(QueuePolicy.ROTATION)
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
