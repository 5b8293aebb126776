"""The rules of access windows and observer requests, with a clock the test sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from forum.domain.access_windows import (
    AfterWindow,
    Window,
    WindowSpec,
    check_set_window,
    check_window_admission,
    seat_at_end,
    window_seats,
)
from forum.domain.observer_requests import (
    Approval,
    RequestStatus,
    check_decide_request,
    check_request_observer,
    observer_admission,
)
from forum.domain.seats import ObserverPolicy
from forum.domain.vocabulary import Family, Seat
from forum.errors import ErrorCode, ForumError

GOV, CS = Family.GOVERNMENT, Family.CIVIL_SOCIETY
NAIVE = datetime(2005, 11, 16, 10)  # noqa: DTZ001 - a time with no zone is refused
# The civil society plenary, 09:00 to 11:00; its last 15 minutes open to governments.
STARTS = datetime(2005, 11, 16, 9, 0, tzinfo=UTC)
ENDS = datetime(2005, 11, 16, 11, 0, tzinfo=UTC)
LAST_15 = WindowSpec(
    length=timedelta(minutes=15),
    seat=Seat.PARTICIPANT,
    after=AfterWindow.OBSERVER,
    families=frozenset({GOV}),
    offset=timedelta(minutes=15),
)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2005, 11, 16, hour, minute, second, tzinfo=UTC)


def window(spec: WindowSpec = LAST_15, window_id: int = 1) -> Window:
    starts_at, ends_at = check_set_window(
        spec,
        is_chair=True,
        session_open_or_scheduled=True,
        session_starts_at=STARTS,
        session_ends_at=ENDS,
    )
    return Window(
        id=window_id,
        starts_at=starts_at,
        ends_at=ends_at,
        seat=spec.seat,
        after=spec.after,
        families=spec.families,
        group_ids=spec.group_ids,
        session_ends_at=ENDS,
    )


def refused(spec: WindowSpec, **kwargs: Any) -> ForumError:
    facts: dict[str, Any] = {
        "is_chair": True,
        "session_open_or_scheduled": True,
        "session_starts_at": STARTS,
        "session_ends_at": ENDS,
        **kwargs,
    }
    with pytest.raises(ForumError) as caught:
        check_set_window(spec, **facts)
    return caught.value


def test_the_last_15_minutes_are_from_10_45_to_the_end() -> None:
    w = window()
    assert (w.starts_at, w.ends_at) == (at(10, 45), ENDS)


def test_a_window_at_a_time_starts_then() -> None:
    spec = WindowSpec(
        length=timedelta(minutes=10),
        seat=Seat.REMOTE,
        after=AfterWindow.OUT,
        group_ids=frozenset({7}),
        at=at(10, 0),
    )
    w = window(spec)
    assert (w.starts_at, w.ends_at) == (at(10, 0), at(10, 10))
    assert w.seats() == {Seat.REMOTE}


@pytest.mark.parametrize(
    ("now", "seats"),
    [
        (at(10, 44, 59), set()),
        (at(10, 45), {Seat.PARTICIPANT, Seat.REMOTE}),
        (at(10, 59, 59), {Seat.PARTICIPANT, Seat.REMOTE}),
        # At the session's scheduled end the window is over: an observer seat is left.
        (ENDS, {Seat.OBSERVER}),
    ],
)
def test_a_window_is_open_from_its_start_until_its_end(now: datetime, seats: set[Seat]) -> None:
    assert window_seats([window()], family=GOV, group_ids=[], now=now) == seats


def test_a_window_that_ends_before_the_session_leaves_an_observer_seat() -> None:
    spec = WindowSpec(
        length=timedelta(minutes=10),
        seat=Seat.PARTICIPANT,
        after=AfterWindow.OBSERVER,
        families=frozenset({GOV}),
        offset=timedelta(minutes=30),
    )
    w = window(spec)
    assert window_seats([w], family=GOV, group_ids=[], now=at(10, 40)) == {Seat.OBSERVER}
    # The session may run over its scheduled end: the seat lasts until it closes.
    assert window_seats([w], family=GOV, group_ids=[], now=ENDS) == {Seat.OBSERVER}
    out = window(WindowSpec(**{**_fields(spec), "after": AfterWindow.OUT}))
    assert window_seats([out], family=GOV, group_ids=[], now=at(10, 40)) == set()
    assert seat_at_end(w) is Seat.OBSERVER and seat_at_end(out) is None


def _fields(spec: WindowSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in WindowSpec.__slots__}


def test_admission_before_the_window_is_refused_with_its_code_and_times() -> None:
    with pytest.raises(ForumError) as caught:
        check_window_admission(Seat.REMOTE, [window()], family=GOV, group_ids=[], now=at(10, 0))
    assert caught.value.code is ErrorCode.WINDOW_CLOSED
    assert caught.value.status == 403
    assert caught.value.extra == {
        "starts_at": at(10, 45).isoformat(),
        "ends_at": ENDS.isoformat(),
    }
    assert "10:45" in caught.value.message


def test_admission_in_the_window_seats_whom_it_admits_only() -> None:
    w = window()
    assert check_window_admission(Seat.PARTICIPANT, [w], family=GOV, group_ids=[], now=at(10, 50))
    # Not admitted: the room's own rules decide.
    assert not check_window_admission(
        Seat.PARTICIPANT, [w], family=Family.PRIVATE_SECTOR, group_ids=[], now=at(10, 50)
    )
    # A seat the window does not give: the room's own rules decide too.
    assert not check_window_admission(Seat.OBSERVER, [w], family=GOV, group_ids=[], now=at(10, 0))


def test_a_group_window_admits_its_members_of_any_family() -> None:
    spec = WindowSpec(**{**_fields(LAST_15), "families": frozenset(), "group_ids": frozenset({4})})
    w = window(spec)
    assert w.admits(CS, [3, 4]) and not w.admits(GOV, [3])


def test_a_window_that_runs_past_its_session_is_refused() -> None:
    spec = WindowSpec(**{**_fields(LAST_15), "length": timedelta(minutes=16)})
    error = refused(spec)
    assert error.code is ErrorCode.WINDOW_PAST_SESSION and error.status == 422
    assert error.field == "length"
    late = WindowSpec(**{**_fields(LAST_15), "offset": None, "at": at(10, 50)})
    assert refused(late).code is ErrorCode.WINDOW_PAST_SESSION


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"families": frozenset()}, ErrorCode.VALIDATION, "families"),
        ({"length": timedelta(0)}, ErrorCode.VALIDATION, "length"),
        ({"offset": None}, ErrorCode.VALIDATION, "start"),
        ({"at": at(10, 0)}, ErrorCode.VALIDATION, "start"),
        ({"offset": timedelta(0)}, ErrorCode.VALIDATION, "start"),
        ({"offset": timedelta(hours=3)}, ErrorCode.VALIDATION, "start"),
        ({"offset": None, "at": NAIVE}, ErrorCode.VALIDATION, "start"),
        ({"group_ids": frozenset(range(51))}, ErrorCode.VALIDATION, "groups"),
    ],
)
def test_bad_windows_are_refused_beside_their_field(
    changes: dict[str, Any], code: ErrorCode, field: str
) -> None:
    error = refused(WindowSpec(**{**_fields(LAST_15), **changes}))
    assert (error.code, error.field) == (code, field)


def test_only_the_chair_sets_a_window_and_not_on_a_closed_session() -> None:
    assert refused(LAST_15, is_chair=False).code is ErrorCode.FORBIDDEN
    assert refused(LAST_15, session_open_or_scheduled=False).code is ErrorCode.CONFLICT


# -- observer requests -----------------------------------------------------------------

ONE_CS = ObserverPolicy({CS: 1})


def ask(**changes: Any) -> None:
    facts: dict[str, Any] = {
        "family": CS,
        "policy": ONE_CS,
        "in_group": False,
        "for_caucus": False,
        "leads_caucus": False,
        "pending": False,
        "approved": False,
        **changes,
    }
    check_request_observer(**facts)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"family": GOV}, ErrorCode.NO_OBSERVER_SEATS),
        ({"pending": True}, ErrorCode.OBSERVER_REQUEST_PENDING),
        ({"approved": True}, ErrorCode.CONFLICT),
        ({"in_group": True}, ErrorCode.CONFLICT),
        ({"for_caucus": True}, ErrorCode.FORBIDDEN),
    ],
)
def test_requests_refused(changes: dict[str, Any], code: ErrorCode) -> None:
    with pytest.raises(ForumError) as caught:
        ask(**changes)
    assert caught.value.code is code


def test_a_request_to_a_room_with_seats_for_the_family_is_accepted() -> None:
    ask()
    ask(for_caucus=True, leads_caucus=True)


def decide(**changes: Any) -> str:
    facts: dict[str, Any] = {
        "is_chair": True,
        "status": RequestStatus.PENDING,
        "approve": True,
        "reason": "",
        "family": CS,
        "policy": ONE_CS,
        "approved_of_family": 0,
        **changes,
    }
    return check_decide_request(**facts)


def test_the_chair_approves_within_the_seats_and_refuses_with_a_reason() -> None:
    assert decide() == ""
    assert decide(approve=False, reason="  The room is full this week. ") == (
        "The room is full this week."
    )
    cases: list[tuple[dict[str, Any], ErrorCode]] = [
        ({"is_chair": False}, ErrorCode.FORBIDDEN),
        ({"status": RequestStatus.APPROVED}, ErrorCode.CONFLICT),
        ({"approve": False}, ErrorCode.VALIDATION),
        ({"approved_of_family": 1}, ErrorCode.NO_SEAT),
    ]
    for changes, code in cases:
        with pytest.raises(ForumError) as caught:
            decide(**changes)
        assert caught.value.code is code


def test_an_approved_person_is_seated_and_holds_the_seat_against_others() -> None:
    approvals = [Approval(user_id=5, caucus_id=None, family=CS)]
    assert observer_admission(
        user_id=5, caucus_ids=[], approvals=approvals, observers={}, filled_caucuses=[]
    ) == (True, {})
    granted, counted = observer_admission(
        user_id=6, caucus_ids=[], approvals=approvals, observers={}, filled_caucuses=[]
    )
    # The seat not taken yet counts as taken for anyone else.
    assert not granted and counted == {-1: CS}
    _granted, counted = observer_admission(
        user_id=6, caucus_ids=[], approvals=approvals, observers={5: CS}, filled_caucuses=[]
    )
    assert counted == {5: CS}


def test_one_member_of_an_approved_caucus_at_a_time_holds_its_seat() -> None:
    approvals = [Approval(user_id=9, caucus_id=40, family=CS)]
    first = observer_admission(
        user_id=6, caucus_ids=[40], approvals=approvals, observers={}, filled_caucuses=[]
    )
    assert first == (True, {})
    second = observer_admission(
        user_id=7, caucus_ids=[40], approvals=approvals, observers={6: CS}, filled_caucuses=[40]
    )
    assert second == (False, {6: CS})
