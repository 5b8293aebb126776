from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.domain.sessions import (
    SessionFormat,
    SessionStatus,
    can_chair,
    check_close_session,
    check_edit_session,
    check_open_session,
    check_schedule_session,
)
from forum.domain.speaking import (
    INTERVENTION_MAX_CHARS,
    QUEUE_MAX,
    SHORT_INTERVENTION_MAX_CHARS,
    QueueEntry,
    QueuePolicy,
    Turn,
    check_extend_floor,
    check_give_floor,
    check_intervene,
    check_lower_all_hands,
    check_lower_hand,
    check_move,
    check_raise_hand,
    check_set_policy,
    check_speaking_time,
    check_take_floor,
    clean_intervention,
    find,
    lower_hand,
    move,
    next_speaker,
    projected_order,
    raise_hand,
)
from forum.domain.vocabulary import Family, Role, Seat
from forum.errors import ErrorCode, ForumError

GOV, CS, PS, IO = (
    Family.GOVERNMENT,
    Family.CIVIL_SOCIETY,
    Family.PRIVATE_SECTOR,
    Family.INTERNATIONAL_ORG,
)
T0 = datetime(2005, 11, 16, 9, 0, tzinfo=UTC)


def entry(user_id: int, family: Family, raised: int) -> QueueEntry:
    return QueueEntry(user_id=user_id, family=family, seat=Seat.PARTICIPANT, raised=raised)


def code_of(call: object) -> ErrorCode | None:
    assert callable(call)
    try:
        call()
    except ForumError as error:
        return error.code
    return None


QUEUE = (entry(1, GOV, 0), entry(2, GOV, 1), entry(3, CS, 2), entry(4, PS, 3), entry(5, CS, 4))


@pytest.mark.parametrize(
    ("policy", "spoken", "expected"),
    [
        (QueuePolicy.FIFO, {}, 1),
        (QueuePolicy.FIFO, {GOV: 5}, 1),
        (QueuePolicy.ROTATION, {}, 1),  # every family at zero: earliest hand
        (QueuePolicy.ROTATION, {GOV: 1}, 3),  # civil society and private sector at zero
        (QueuePolicy.ROTATION, {GOV: 1, CS: 1}, 4),
        (QueuePolicy.ROTATION, {GOV: 2, CS: 1, PS: 1}, 3),  # tie CS/PS: CS raised first
        (QueuePolicy.ROTATION, {GOV: 0, CS: 3, PS: 3, IO: 0}, 1),  # IO is absent from queue
    ],
)
def test_next_speaker(policy: QueuePolicy, spoken: dict[Family, int], expected: int) -> None:
    chosen = next_speaker(policy, QUEUE, spoken)
    assert chosen is not None and chosen.user_id == expected


def test_next_speaker_of_empty_queue_is_none() -> None:
    assert next_speaker(QueuePolicy.FIFO, (), {}) is None
    assert next_speaker(QueuePolicy.ROTATION, (), {}) is None


def test_fifo_ignores_position_in_sequence() -> None:
    shuffled = (QUEUE[3], QUEUE[0], QUEUE[4])
    assert [e.user_id for e in projected_order(QueuePolicy.FIFO, shuffled, {})] == [1, 4, 5]


def test_rotation_takes_turns_across_families() -> None:
    order = projected_order(QueuePolicy.ROTATION, QUEUE, {})
    # gov, then the two families at zero by arrival, then gov and cs again
    assert [e.user_id for e in order] == [1, 3, 4, 2, 5]
    assert [e.family for e in order[:3]] == [GOV, CS, PS]


def test_rotation_projection_leaves_counts_alone() -> None:
    spoken = {GOV: 1}
    projected_order(QueuePolicy.ROTATION, QUEUE, spoken)
    assert spoken == {GOV: 1}


def test_queue_operations() -> None:
    queue = raise_hand((), entry(7, IO, 9))
    queue = raise_hand(queue, entry(8, CS, 10))
    assert find(queue, 8) == entry(8, CS, 10)
    assert find(queue, 99) is None
    assert lower_hand(queue, 7) == (entry(8, CS, 10),)
    moved = move(QUEUE, 5, 0)
    assert [e.user_id for e in moved] == [5, 1, 2, 3, 4]
    assert [e.raised for e in moved] == [0, 1, 2, 3, 4]
    assert next_speaker(QueuePolicy.FIFO, moved, {}) == entry(5, CS, 0)
    with pytest.raises(KeyError):
        move(QUEUE, 99, 0)


def test_turn_time() -> None:
    turn = Turn(user_id=1, family=GOV, started_at=T0, limit_s=60)
    assert turn.ends_at == T0 + timedelta(seconds=60)
    assert turn.time_left(T0 + timedelta(seconds=15)) == 45.0
    assert not turn.expired(T0 + timedelta(seconds=59))
    assert turn.expired(T0 + timedelta(seconds=60))
    assert turn.time_left(T0 + timedelta(seconds=90)) == 0.0
    longer = turn.extend(30).extend(30)
    assert longer.extended_s == 60
    assert not longer.expired(T0 + timedelta(seconds=119))
    assert longer.expired(T0 + timedelta(seconds=120))
    open_turn = Turn(user_id=1, family=GOV, started_at=T0)
    assert open_turn.ends_at is None
    assert open_turn.time_left(T0 + timedelta(days=1)) is None
    assert not open_turn.expired(T0 + timedelta(days=1))


@pytest.mark.parametrize(
    ("seat", "session_open", "in_queue", "holds", "size", "expected"),
    [
        (Seat.PARTICIPANT, True, False, False, 0, None),
        (Seat.REMOTE, True, False, False, 0, None),
        (Seat.OBSERVER, True, False, False, 0, ErrorCode.OBSERVER_CANNOT_SPEAK),
        (Seat.OBSERVER, False, False, False, 0, ErrorCode.OBSERVER_CANNOT_SPEAK),
        (Seat.REMOTE, False, False, False, 0, ErrorCode.SESSION_NOT_OPEN),
        (Seat.PARTICIPANT, True, True, False, 0, ErrorCode.CONFLICT),
        (Seat.PARTICIPANT, True, False, True, 0, ErrorCode.CONFLICT),
        (Seat.PARTICIPANT, True, False, False, QUEUE_MAX, ErrorCode.CONFLICT),
    ],
)
def test_check_raise_hand(
    seat: Seat,
    session_open: bool,
    in_queue: bool,
    holds: bool,
    size: int,
    expected: ErrorCode | None,
) -> None:
    assert (
        code_of(
            lambda: check_raise_hand(
                seat,
                session_open=session_open,
                already_in_queue=in_queue,
                holds_floor=holds,
                queue_size=size,
            )
        )
        == expected
    )


@pytest.mark.parametrize(
    ("user_id", "target", "is_chair", "in_queue", "expected"),
    [
        (1, 1, False, True, None),
        (1, 1, False, False, ErrorCode.CONFLICT),
        (1, 2, False, True, ErrorCode.FORBIDDEN),
        (1, 2, True, True, None),
        (1, 2, True, False, ErrorCode.CONFLICT),
    ],
)
def test_check_lower_hand(
    user_id: int, target: int, is_chair: bool, in_queue: bool, expected: ErrorCode | None
) -> None:
    assert (
        code_of(
            lambda: check_lower_hand(
                user_id=user_id, target_id=target, is_chair=is_chair, in_queue=in_queue
            )
        )
        == expected
    )


@pytest.mark.parametrize(
    ("is_chair", "in_queue", "position", "expected"),
    [
        (True, True, 0, None),
        (True, True, 2, None),
        (True, True, 3, ErrorCode.VALIDATION),
        (True, True, -1, ErrorCode.VALIDATION),
        (True, False, 0, ErrorCode.CONFLICT),
        (False, True, 0, ErrorCode.FORBIDDEN),
    ],
)
def test_check_move(
    is_chair: bool, in_queue: bool, position: int, expected: ErrorCode | None
) -> None:
    assert (
        code_of(
            lambda: check_move(
                is_chair=is_chair, in_queue=in_queue, position=position, queue_size=3
            )
        )
        == expected
    )


def test_check_set_policy() -> None:
    check_set_policy(is_chair=True)
    assert code_of(lambda: check_set_policy(is_chair=False)) is ErrorCode.FORBIDDEN


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (None, None),
        (1, None),
        (3600, None),
        (0, ErrorCode.VALIDATION),
        (3601, ErrorCode.VALIDATION),
    ],
)
def test_check_speaking_time(seconds: int | None, expected: ErrorCode | None) -> None:
    assert code_of(lambda: check_speaking_time(seconds)) == expected


@pytest.mark.parametrize(
    ("is_chair", "session_open", "in_queue", "limit", "expected"),
    [
        (True, True, True, None, None),
        (True, True, True, 120, None),
        (True, True, True, 0, ErrorCode.VALIDATION),
        (True, True, False, None, ErrorCode.CONFLICT),
        (True, False, True, None, ErrorCode.SESSION_NOT_OPEN),
        (False, True, True, None, ErrorCode.FORBIDDEN),
    ],
)
def test_check_give_floor(
    is_chair: bool,
    session_open: bool,
    in_queue: bool,
    limit: int | None,
    expected: ErrorCode | None,
) -> None:
    assert (
        code_of(
            lambda: check_give_floor(
                is_chair=is_chair, session_open=session_open, in_queue=in_queue, limit_s=limit
            )
        )
        == expected
    )


TIMED = Turn(user_id=2, family=CS, started_at=T0, limit_s=60)
OPEN_TURN = Turn(user_id=2, family=CS, started_at=T0)


@pytest.mark.parametrize(
    ("is_chair", "turn", "expected"),
    [(True, TIMED, None), (True, None, ErrorCode.CONFLICT), (False, TIMED, ErrorCode.FORBIDDEN)],
)
def test_check_take_floor(is_chair: bool, turn: Turn | None, expected: ErrorCode | None) -> None:
    assert code_of(lambda: check_take_floor(is_chair=is_chair, turn=turn)) == expected


@pytest.mark.parametrize(
    ("is_chair", "turn", "seconds", "expected"),
    [
        (True, TIMED, 30, None),
        (True, TIMED, 0, ErrorCode.VALIDATION),
        (True, OPEN_TURN, 30, ErrorCode.CONFLICT),
        (True, None, 30, ErrorCode.CONFLICT),
        (False, TIMED, 30, ErrorCode.FORBIDDEN),
    ],
)
def test_check_extend_floor(
    is_chair: bool, turn: Turn | None, seconds: int, expected: ErrorCode | None
) -> None:
    assert (
        code_of(lambda: check_extend_floor(is_chair=is_chair, turn=turn, seconds=seconds))
        == expected
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("  I support the proposal.\n\tThank you. ", None),
        ("", ErrorCode.VALIDATION),
        ("   \n ", ErrorCode.VALIDATION),
        ("x" * 11, ErrorCode.TOO_LARGE),
        ("bell\x07", ErrorCode.VALIDATION),
        ("nul\x00", ErrorCode.VALIDATION),
        ("c1\x85c1", ErrorCode.VALIDATION),
        ("déjà vu — 発言", None),
    ],
)
def test_clean_intervention(body: str, expected: ErrorCode | None) -> None:
    assert (
        code_of(lambda: clean_intervention(body, limit=10 if len(body) == 11 else 100)) == expected
    )


def test_clean_intervention_strips() -> None:
    assert clean_intervention("  hello \n", limit=10) == "hello"


# The speaking matrix: seat x format x floor state x who is asking.
CHAIR_ID, HOLDER_ID, OTHER_ID = 1, 2, 3
HELD = Turn(user_id=HOLDER_ID, family=CS, started_at=T0, limit_s=60)
NOW = T0 + timedelta(seconds=10)
LATE = T0 + timedelta(seconds=61)
NON_OPEN = [SessionFormat.STATEMENTS, SessionFormat.BRIEFING, SessionFormat.DRAFTING]


def speaking_cases() -> list[
    tuple[Seat, SessionFormat, int, bool, Turn | None, datetime, ErrorCode | None]
]:
    cases: list[tuple[Seat, SessionFormat, int, bool, Turn | None, datetime, ErrorCode | None]] = []
    for fmt in SessionFormat:
        for seat in (Seat.PARTICIPANT, Seat.REMOTE):
            cases.append((seat, fmt, CHAIR_ID, True, None, NOW, None))
            cases.append((seat, fmt, CHAIR_ID, True, HELD, NOW, None))
            cases.append((seat, fmt, HOLDER_ID, False, HELD, NOW, None))
        # an observer is refused whoever they are and whatever the floor
        cases.append(
            (Seat.OBSERVER, fmt, OTHER_ID, False, None, NOW, ErrorCode.OBSERVER_CANNOT_SPEAK)
        )
        cases.append(
            (Seat.OBSERVER, fmt, HOLDER_ID, False, HELD, NOW, ErrorCode.OBSERVER_CANNOT_SPEAK)
        )
        cases.append(
            (Seat.OBSERVER, fmt, CHAIR_ID, True, None, NOW, ErrorCode.OBSERVER_CANNOT_SPEAK)
        )
    for seat in (Seat.PARTICIPANT, Seat.REMOTE):
        cases.append((seat, SessionFormat.OPEN_DEBATE, OTHER_ID, False, None, NOW, None))
        cases.append((seat, SessionFormat.OPEN_DEBATE, OTHER_ID, False, HELD, NOW, None))
        for fmt in NON_OPEN:
            cases.append((seat, fmt, OTHER_ID, False, HELD, NOW, ErrorCode.FLOOR_HELD))
            cases.append((seat, fmt, OTHER_ID, False, None, NOW, ErrorCode.FLOOR_REQUIRED))
            # once the time is up the floor is back with the chair
            cases.append((seat, fmt, HOLDER_ID, False, HELD, LATE, ErrorCode.FLOOR_REQUIRED))
            cases.append((seat, fmt, OTHER_ID, False, HELD, LATE, ErrorCode.FLOOR_REQUIRED))
            cases.append((seat, fmt, CHAIR_ID, True, HELD, LATE, None))
    return cases


@pytest.mark.parametrize(
    ("seat", "fmt", "user_id", "is_chair", "turn", "now", "expected"), speaking_cases()
)
def test_check_intervene(
    seat: Seat,
    fmt: SessionFormat,
    user_id: int,
    is_chair: bool,
    turn: Turn | None,
    now: datetime,
    expected: ErrorCode | None,
) -> None:
    assert (
        code_of(
            lambda: check_intervene(
                seat,
                fmt,
                user_id=user_id,
                is_chair=is_chair,
                session_open=True,
                turn=turn,
                now=now,
                body="Point of order.",
            )
        )
        == expected
    )


def test_check_intervene_when_closed() -> None:
    assert (
        code_of(
            lambda: check_intervene(
                Seat.PARTICIPANT,
                SessionFormat.OPEN_DEBATE,
                user_id=1,
                is_chair=True,
                session_open=False,
                turn=None,
                now=NOW,
                body="hello",
            )
        )
        is ErrorCode.SESSION_NOT_OPEN
    )


@pytest.mark.parametrize(
    ("user_id", "is_chair", "limit"),
    [
        (OTHER_ID, False, SHORT_INTERVENTION_MAX_CHARS),
        (HOLDER_ID, False, INTERVENTION_MAX_CHARS),
        (CHAIR_ID, True, INTERVENTION_MAX_CHARS),
    ],
)
def test_intervention_length_limits(user_id: int, is_chair: bool, limit: int) -> None:
    def speak(length: int) -> str:
        return check_intervene(
            Seat.REMOTE,
            SessionFormat.OPEN_DEBATE,
            user_id=user_id,
            is_chair=is_chair,
            session_open=True,
            turn=HELD,
            now=NOW,
            body="a" * length,
        )

    assert len(speak(limit)) == limit
    assert code_of(lambda: speak(limit + 1)) is ErrorCode.TOO_LARGE


@pytest.mark.parametrize(
    ("role", "secretariat", "expected"),
    [
        (Role.CHAIR, False, True),
        (None, True, True),
        (Role.MEMBER, True, True),
        (Role.COORDINATOR, False, True),
        (Role.MEMBER, False, False),
        (Role.CONTACT_POINT, False, False),
        (Role.OBSERVER, False, False),
        (None, False, False),
    ],
)
def test_can_chair(role: Role | None, secretariat: bool, expected: bool) -> None:
    assert can_chair(role, is_secretariat=secretariat) is expected


def schedule(**changes: object) -> str:
    values: dict[str, object] = {
        "is_chair": True,
        "title": "  Session on C7 e-government ",
        "agenda": "1. Opening",
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=2),
    }
    values.update(changes)
    return check_schedule_session(**values)  # type: ignore[arg-type]


def test_schedule_session_ok() -> None:
    assert schedule() == "Session on C7 e-government"


@pytest.mark.parametrize(
    ("changes", "expected", "field"),
    [
        ({"is_chair": False}, ErrorCode.FORBIDDEN, None),
        ({"title": "  "}, ErrorCode.VALIDATION, "title"),
        ({"title": "x" * 201}, ErrorCode.VALIDATION, "title"),
        ({"agenda": "x" * 20_001}, ErrorCode.TOO_LARGE, "agenda"),
        ({"starts_at": T0.replace(tzinfo=None)}, ErrorCode.VALIDATION, "starts_at"),
        (
            {"ends_at": (T0 + timedelta(hours=1)).replace(tzinfo=None)},
            ErrorCode.VALIDATION,
            "ends_at",
        ),
        ({"ends_at": T0}, ErrorCode.VALIDATION, "ends_at"),
        ({"ends_at": T0 + timedelta(hours=25)}, ErrorCode.VALIDATION, "ends_at"),
    ],
)
def test_schedule_session_refused(
    changes: dict[str, object], expected: ErrorCode, field: str | None
) -> None:
    with pytest.raises(ForumError) as caught:
        schedule(**changes)
    assert caught.value.code is expected
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("is_chair", "status", "another", "expected"),
    [
        (True, SessionStatus.SCHEDULED, False, None),
        (True, SessionStatus.SCHEDULED, True, ErrorCode.CONFLICT),
        (True, SessionStatus.OPEN, False, ErrorCode.CONFLICT),
        (True, SessionStatus.CLOSED, False, ErrorCode.CONFLICT),
        (False, SessionStatus.SCHEDULED, False, ErrorCode.FORBIDDEN),
    ],
)
def test_check_open_session(
    is_chair: bool, status: SessionStatus, another: bool, expected: ErrorCode | None
) -> None:
    assert (
        code_of(lambda: check_open_session(is_chair=is_chair, status=status, another_open=another))
        == expected
    )


@pytest.mark.parametrize(
    ("is_chair", "status", "expected"),
    [
        (True, SessionStatus.OPEN, None),
        (True, SessionStatus.SCHEDULED, ErrorCode.SESSION_NOT_OPEN),
        (True, SessionStatus.CLOSED, ErrorCode.SESSION_NOT_OPEN),
        (False, SessionStatus.OPEN, ErrorCode.FORBIDDEN),
    ],
)
def test_check_close_session(
    is_chair: bool, status: SessionStatus, expected: ErrorCode | None
) -> None:
    assert code_of(lambda: check_close_session(is_chair=is_chair, status=status)) == expected


def test_only_the_chair_lowers_every_hand_and_only_when_some_are_up() -> None:
    check_lower_all_hands(is_chair=True, queue_size=2)
    for is_chair, size, code in ((False, 2, ErrorCode.FORBIDDEN), (True, 0, ErrorCode.CONFLICT)):
        with pytest.raises(ForumError) as caught:
            check_lower_all_hands(is_chair=is_chair, queue_size=size)
        assert caught.value.code is code


@pytest.mark.parametrize(
    ("is_chair", "status", "title", "expected"),
    [
        (True, SessionStatus.SCHEDULED, " Renamed ", None),
        (True, SessionStatus.OPEN, "Renamed", ErrorCode.CONFLICT),
        (True, SessionStatus.CLOSED, "Renamed", ErrorCode.CONFLICT),
        (False, SessionStatus.SCHEDULED, "Renamed", ErrorCode.FORBIDDEN),
        (True, SessionStatus.SCHEDULED, " ", ErrorCode.VALIDATION),
    ],
)
def test_check_edit_session(
    is_chair: bool, status: SessionStatus, title: str, expected: ErrorCode | None
) -> None:
    def edit() -> str:
        return check_edit_session(
            is_chair=is_chair,
            status=status,
            title=title,
            agenda="",
            starts_at=T0,
            ends_at=T0 + timedelta(hours=1),
        )

    assert code_of(edit) == expected
    if expected is None:
        assert edit() == "Renamed"
