"""The floor's pure rules with a fake clock: points of order first, families out of
time passed over, rotation weighing north and south, the speaker's clock paused and
resumed, budgets that must fit the session, and the equity figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.domain import equity, floor
from forum.domain.regions import side_of
from forum.domain.speaking import QueueEntry, QueuePolicy, Turn
from forum.domain.vocabulary import Family, Seat
from forum.errors import ErrorCode, ForumError

T0 = datetime(2005, 11, 16, 9, 0, tzinfo=UTC)
GOV, CS, PS = Family.GOVERNMENT, Family.CIVIL_SOCIETY, Family.PRIVATE_SECTOR


def entry(user: int, family: Family, raised: int, **more: object) -> QueueEntry:
    return QueueEntry(user, family, Seat.PARTICIPANT, raised, **more)  # type: ignore[arg-type]


def test_points_of_order_come_first_in_the_order_raised() -> None:
    queue = [
        entry(1, GOV, 0),
        entry(2, CS, 1, point_of_order=True),
        entry(3, PS, 2),
        entry(4, GOV, 3, point_of_order=True),
    ]
    for policy in QueuePolicy:
        order = floor.call_order(policy, queue, {CS: 5})
        assert [e.user_id for e in order][:2] == [2, 4], policy
    assert floor.next_in_line(QueuePolicy.FIFO, queue, {}) == queue[1]


def test_a_family_out_of_time_is_passed_over_but_not_its_points_of_order() -> None:
    queue = [entry(1, GOV, 0), entry(2, CS, 1), entry(3, GOV, 2, point_of_order=True)]
    out = floor.exhausted_families({GOV: 60}, {GOV: 60.0})
    assert out == {GOV}
    order = floor.call_order(QueuePolicy.FIFO, queue, {}, exhausted=out)
    assert [e.user_id for e in order] == [3, 2, 1]
    assert floor.next_in_line(QueuePolicy.FIFO, queue[:1], {}, exhausted=out) is None
    with pytest.raises(ForumError) as caught:
        floor.check_exhausted(queue[0], out)
    assert caught.value.code is ErrorCode.FAMILY_TIME_EXHAUSTED
    floor.check_exhausted(queue[2], out)
    assert (
        floor.capped_limit(120, GOV, point_of_order=False, budgets={GOV: 90}, used={GOV: 30.0})
        == 60
    )
    assert floor.capped_limit(None, GOV, point_of_order=False, budgets={GOV: 90}, used={}) == 90
    assert floor.capped_limit(None, GOV, point_of_order=True, budgets={GOV: 90}, used={}) is None
    assert floor.capped_limit(30, CS, point_of_order=False, budgets={GOV: 90}, used={}) == 30


def test_rotation_across_regions_weighs_north_and_south() -> None:
    queue = [
        entry(1, GOV, 0, region_side="north"),
        entry(2, CS, 1, region_side="north"),
        entry(3, CS, 2, region_side="south"),
    ]
    # Families alone: government spoke once, civil society never: 2, then 1 and 3
    # even, in the order they raised a hand.
    plain = floor.call_order(QueuePolicy.ROTATION, queue, {GOV: 1})
    assert [e.user_id for e in plain] == [2, 1, 3]
    # The north has spoken twice: the south's civil society speaker comes first.
    weighed = floor.call_order(QueuePolicy.ROTATION_REGIONS, queue, {GOV: 1}, sides={"north": 2})
    assert [e.user_id for e in weighed] == [3, 1, 2]


def test_pause_keeps_the_time_left_and_the_turn_cannot_run_out() -> None:
    turn = Turn(user_id=1, family=GOV, started_at=T0, limit_s=60)
    paused = floor.pause(turn, T0 + timedelta(seconds=20))
    assert paused.ends_at is None
    assert not paused.expired(T0 + timedelta(hours=1))
    assert paused.time_left(T0 + timedelta(hours=1)) == 40
    assert paused.spoken_s(T0 + timedelta(hours=1)) == 20
    resumed = floor.resume(paused, T0 + timedelta(seconds=320))
    assert resumed.ends_at == T0 + timedelta(seconds=360)
    assert resumed.time_left(T0 + timedelta(seconds=330)) == 30
    assert resumed.spoken_s(T0 + timedelta(seconds=330)) == 30
    assert resumed.expired(T0 + timedelta(seconds=360))
    assert resumed.spoken_s(T0 + timedelta(hours=2)) == 60
    assert floor.check_pause(is_chair=True, turn=turn) is turn
    assert floor.check_resume(is_chair=True, turn=paused) is paused
    for check, running, code in (
        (floor.check_resume, turn, ErrorCode.CONFLICT),  # not paused
        (floor.check_pause, paused, ErrorCode.CONFLICT),  # paused already
        (floor.check_pause, None, ErrorCode.CONFLICT),  # nobody holds the floor
        (floor.check_resume, None, ErrorCode.CONFLICT),
    ):
        with pytest.raises(ForumError) as refused:
            check(is_chair=True, turn=running)
        assert refused.value.code is code
    # Only the chair runs the clock, whatever the floor.
    for check, running in ((floor.check_pause, turn), (floor.check_resume, paused)):
        with pytest.raises(ForumError) as caught:
            check(is_chair=False, turn=running)
        assert caught.value.code is ErrorCode.FORBIDDEN


def test_budgets_must_fit_the_session() -> None:
    assert floor.check_budgets({"government": 3600}, session_length_s=3600) == {GOV: 3600}
    with pytest.raises(ForumError) as caught:
        floor.check_budgets({"government": 3000, "civil_society": 601}, session_length_s=3600)
    assert caught.value.code is ErrorCode.BUDGET_EXCEEDS_SESSION
    for bad in ({"press": 60}, {"government": 0}, {"government": True}):
        with pytest.raises(ForumError) as caught:
            floor.check_budgets(bad, session_length_s=3600)
        assert caught.value.code is ErrorCode.VALIDATION
    with pytest.raises(ForumError) as caught:
        floor.check_point_of_order(Seat.OBSERVER)
    assert caught.value.code is ErrorCode.OBSERVER_CANNOT_SPEAK


def test_north_and_south() -> None:
    assert [side_of(c) for c in ("FR", "us", "JP", "RU", "KZ", "KE", "BR", "XX")] == [
        "north",
        "north",
        "north",
        "north",
        "south",
        "south",
        "south",
        None,
    ]


def test_equity_counts_turns_time_and_interventions_never_observers() -> None:
    entries = [
        {"type": "floor", "op": "give", "user_id": 1, "family": "government"},
        {
            "type": "intervention",
            "op": "post",
            "user_id": 1,
            "family": "government",
            "seat": "participant",
        },
        {
            "type": "intervention",
            "op": "post",
            "user_id": 9,
            "family": "civil_society",
            "seat": "observer",
        },
        {
            "type": "floor",
            "op": "give",
            "user_id": 2,
            "family": "civil_society",
            "point_of_order": True,
            "ended": {"user_id": 1, "family": "government", "spoken_s": 40},
        },
        {
            "type": "floor",
            "op": "voice",
            "user_id": 3,
            "family": "private_sector",
            "duration_s": 30,
        },
        {
            "type": "floor",
            "op": "take",
            "user_id": 2,
            "ended": {"user_id": 2, "family": "civil_society", "spoken_s": 5},
        },
    ]
    found = equity.equity(entries, {1: "north", 2: "south", 3: None})
    assert found["by_family"]["government"] == {
        "turns": 1,
        "points_of_order": 0,
        "speaking_s": 40,
        "interventions": 1,
    }
    assert found["by_family"]["civil_society"] == {
        "turns": 1,
        "points_of_order": 1,
        "speaking_s": 5,
        "interventions": 0,
    }
    assert found["by_side"]["unknown"]["speaking_s"] == 30
    assert found["total"] == {
        "turns": 3,
        "points_of_order": 1,
        "speaking_s": 75,
        "interventions": 1,
    }
    running = equity.equity(
        entries[:1], {1: "north"}, running={"user_id": 1, "family": "government", "spoken_s": 12.4}
    )
    assert running["by_side"]["north"]["speaking_s"] == 12
    summed = equity.add(equity.empty(), found)
    equity.add(summed, found)
    assert summed["total"]["speaking_s"] == 150
