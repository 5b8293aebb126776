"""A change of standing in the group (leaving, a new role, removal) reaches the room:
the hand comes down, the floor returns, the seat moves or ends, the person is told."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from forum.actions import groups
from forum.actions.room_reads import room_for
from forum.db.engine import end_read
from forum.db.models import Group, Membership
from forum.domain.sessions import SessionFormat
from forum.domain.vocabulary import Role, Seat
from forum.errors import ErrorCode, ForumError
from tests.capture import broker_down
from tests.factory import GROUP
from tests.room_world import World


async def test_leaving_the_group_ends_the_seats_and_takes_the_hand_down(world: World) -> None:
    w = world
    group = await w.group()
    await w.open()
    first = await w.seat("member", Seat.PARTICIPANT)
    second = await w.seat("member", Seat.REMOTE)
    await w.seat("business", Seat.PARTICIPANT)
    await w.raise_hand("member")
    await w.raise_hand("business")
    heard = await w.listen_to("member")
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
    assert heard.events == [
        {"type": "membership", "op": "update", "group": GROUP, "role": None},
        w.notice(None, {first: None, second: None}),
    ]
    # The seat the connections remember is refused; so is the remembered remote one.
    await w.refused(ErrorCode.SEAT_REVOKED, w.raise_hand("member"))
    await w.refused(ErrorCode.SEAT_REVOKED, w.speak("member", seat=Seat.REMOTE))


async def test_removal_by_the_chair_returns_the_floor(world: World) -> None:
    w = world
    group = await w.group()
    await w.open()
    connection = await w.seat("member", Seat.REMOTE)
    await w.raise_hand("member")
    await w.give(limit_s=60)
    heard = await w.listen_to("member")
    w.take()
    taken = await w.done(w.set_role(group, "chair", "member", None), "floor", "take")
    assert (taken["floor"], taken["user_id"], taken["reason"], taken["actor"]) == (
        None,
        w["member"].id,
        "standing",
        w["chair"].id,
    )
    assert (await w.rows())["room"][6] is None
    assert heard.events[-1] == w.notice(None, {connection: None})
    await w.refused(ErrorCode.SEAT_REVOKED, w.speak("member", seat=Seat.REMOTE))


async def test_a_new_role_moves_the_seat(world: World) -> None:
    w = world
    group = await w.group()
    session_row = await w.open()
    watcher = await w.seat("activist", Seat.OBSERVER)
    heard = await w.listen_to("activist")
    w.take()

    # An observer of the room made member: a participant seat, no numbered event.
    await w.set_role(group, "chair", "activist", Role.MEMBER)
    (moved,) = w.take()
    assert moved["type"] == "presence" and moved["left"] == []
    assert [(u["user_id"], u["seat"], u["observer"]) for u in moved["users"]] == [
        (w["activist"].id, "participant", False)
    ]
    rows = await w.rows()
    assert rows["presence"] == [(watcher, w["activist"].id, "participant")]
    assert (session_row.id, w["activist"].id, "participant") in rows["attendance"]
    assert heard.events[-1] == w.notice("member", {watcher: "participant"})
    await w.done(w.raise_hand("activist"), "queue", "raise")

    # Made observer again: the observer seat (free since), and the hand comes down.
    lowered = await w.done(w.set_role(group, "chair", "activist", Role.OBSERVER), "queue", "lower")
    assert lowered["queue"] == [] and lowered["reason"] == "standing"
    (presence,) = [m for m in w.published if m["type"] == "presence"]
    assert presence["users"][0]["seat"] == "observer" and presence["users"][0]["observer"]
    assert heard.events[-1] == w.notice("observer", {watcher: "observer"})
    await w.refused(ErrorCode.OBSERVER_CANNOT_SPEAK, w.raise_hand("activist", Seat.OBSERVER))

    # A government member made observer: the room has no observer seat for them.
    remote = await w.seat("member", Seat.REMOTE)
    w.take()
    await w.set_role(group, "chair", "member", Role.OBSERVER)
    (gone,) = w.take()
    assert gone["type"] == "presence" and [u["user_id"] for u in gone["left"]] == [w["member"].id]
    assert (remote, w["member"].id, "remote") not in (await w.rows())["presence"]

    # The same role again changes nothing.
    await w.set_role(group, "chair", "business", Role.MEMBER)
    assert w.take() == []


async def test_a_chair_made_member_keeps_the_seat_not_the_controls(world: World) -> None:
    w = world
    group = await w.group()
    await w.open()
    connection = await w.seat("chair", Seat.PARTICIPANT)
    await w.raise_hand("member")
    heard = await w.listen_to("chair")
    w.take()
    await w.set_role(group, "secretariat", "chair", Role.MEMBER)
    assert w.take() == []  # the seat and the queue are as they were
    assert heard.events[-1] == w.notice("member", {connection: "participant"})
    await w.refused(ErrorCode.FORBIDDEN, w.give())


async def test_a_refused_change_of_standing_changes_nothing_in_the_room(world: World) -> None:
    w = world
    group = await w.group()
    await w.open()
    await w.seat("business", Seat.PARTICIPANT)
    await w.raise_hand("business")
    heard = await w.listen_to("business")
    await w.refused(ErrorCode.FORBIDDEN, w.set_role(group, "member", "business", None))
    await w.refused(
        ErrorCode.NOT_MEMBER,
        groups.do_leave_group(w.session, w.broker, user=w["outsider"], slug=group.slug),
    )
    assert heard.events == []


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


async def test_a_change_of_standing_with_the_broker_down_is_still_done(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    w = world
    group = await w.group()
    await w.open()
    await w.seat("member", Seat.PARTICIPANT)
    await w.raise_hand("member")
    before = await w.rows()

    broker_down(monkeypatch, w.broker)
    await groups.do_leave_group(w.session, w.broker, user=w["member"], slug=group.slug)
    rows = await w.rows()
    assert rows["room"][0] == before["room"][0] + 1 and rows["room"][5] == []
    assert [row for row in rows["presence"] if row[1] == w["member"].id] == []
    # The room's event, then the membership and the seats on the person's own channel.
    assert "publishing to room" in caplog.text
    assert caplog.text.count(f"publishing to user {w['member'].id} failed") == 2


async def test_a_group_without_a_room_has_no_room_and_changes_standing_alone(
    world: World,
) -> None:
    """A group is made with its room; one whose room is missing (a row deleted by hand)
    reads as having none, and its members' standing changes without touching a room."""
    w = world
    async with w.session.begin():
        bare = Group(slug="no-room", name="No room", kind="caucus", family="civil_society")
        w.session.add(bare)
    w.session.expunge(bare)
    with pytest.raises(ForumError) as caught:
        await room_for(w.session, "no-room")
    assert caught.value.code is ErrorCode.NOT_FOUND
    await end_read(w.session)
    before = await w.rows()
    w.take()
    await w.set_role(bare, "secretariat", "activist", Role.MEMBER)
    role = select(Membership.role).where(
        Membership.group_id == bare.id, Membership.user_id == w["activist"].id
    )
    assert await w.session.scalar(role) == "member"
    await end_read(w.session)
    assert await w.rows() == before and w.take() == []
