"""A client's state, the initial state plus the events it is sent, equals the state
read fresh after every room action and every change of standing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forum.actions import groups, room_reads, rooms, seats, speaking
from forum.db.engine import end_read
from forum.domain.speaking import QueuePolicy
from forum.domain.vocabulary import Role
from tests.room_world import World


async def test_initial_state_plus_events_equals_fresh_state(world: World) -> None:
    w = world
    client = await w.watch()
    chair = w["chair"]

    await w.follow(w.schedule())
    scheduled = await room_reads.list_sessions(w.session, w.room_id)
    await end_read(w.session)
    await w.follow(
        rooms.do_open_session(
            w.session, w.broker, w.room_id, user=chair, session_id=scheduled[0].id
        ),
    )
    for who in ("member", "business", "coordinator", "igo"):
        await w.follow(w.raise_hand(who))
    await w.follow(
        w.policy(QueuePolicy.ROTATION),
    )
    await w.follow(
        w.move("igo", 0),
    )
    await w.follow(w.give(limit_s=60))
    await w.follow(speaking.do_extend_floor(w.session, w.broker, w.room_id, user=chair, seconds=15))
    await w.follow(w.speak("chair"))
    await w.follow(w.give())
    await w.follow(
        speaking.do_lower_hand(
            w.session, w.broker, w.room_id, user=w["coordinator"], target_id=None
        ),
    )
    await w.follow(speaking.do_take_floor(w.session, w.broker, w.room_id, user=chair))
    await w.follow(
        seats.do_set_observer_policy(
            w.session, w.broker, w.room_id, user=chair, seats={"civil_society": 3}
        ),
    )
    await w.follow(w.give(limit_s=5))
    await w.follow(
        speaking.do_expire_floor(
            w.session,
            w.broker,
            w.room_id,
            turn_seq=client["floor"]["turn"],
            now=datetime.now(UTC) + timedelta(minutes=1),
        ),
    )
    await w.follow(
        w.policy(QueuePolicy.FIFO),
    )
    await w.follow(
        rooms.do_close_session(
            w.session, w.broker, w.room_id, user=chair, session_id=scheduled[0].id
        ),
    )
    assert client["seq"] == (await w.rows())["room"][0] == 19


async def test_initial_state_plus_standing_changes_equals_fresh_state(world: World) -> None:
    w = world
    group = await w.group()
    client = await w.watch()

    await w.follow(w.open())
    for who in ("member", "business", "igo", "coordinator"):
        await w.follow(w.raise_hand(who))
    await w.follow(w.give(target="igo"))
    await w.follow(w.set_role(group, "chair", "igo", None))  # the floor back to the chair
    await w.follow(w.set_role(group, "chair", "business", Role.OBSERVER))  # a hand down
    await w.follow(groups.do_leave_group(w.session, w.broker, user=w["member"], slug=group.slug))
    # The coordinator made member: no change the room sees.
    await w.follow(w.set_role(group, "secretariat", "coordinator", Role.MEMBER))
    assert [entry["user_id"] for entry in client["queue"]] == [w["coordinator"].id]
    assert client["floor"] is None and client["seq"] == (await w.rows())["room"][0]
