"""The pure rules of meetings: briefings, consultations (notice by a fake clock,
answers, delegations) and the queue that alternates between two sides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.domain import consultations as c
from forum.domain import meetings as m
from forum.domain.consultations import Basis, ConsultationStatus
from forum.domain.sessions import SessionFormat
from forum.domain.sides import next_by_side, order_by_side, turns_of, with_turn
from forum.domain.speaking import QueueEntry, QueuePolicy, next_speaker, projected_order
from forum.domain.vocabulary import Family, Role, Seat
from forum.errors import ErrorCode, ForumError

NOW = datetime(2005, 5, 2, 9, 0, tzinfo=UTC)
HOST, GUEST = 10, 20


def entry(user_id: int, side: int | None, raised: int) -> QueueEntry:
    return QueueEntry(user_id, Family.GOVERNMENT, Seat.REMOTE, raised, side=side)


def test_the_queue_alternates_between_the_sides() -> None:
    queue = [entry(1, HOST, 0), entry(2, HOST, 1), entry(3, GUEST, 2), entry(4, GUEST, 3)]
    assert [e.user_id for e in order_by_side(queue, {})] == [1, 3, 2, 4]
    assert next_by_side(queue, {HOST: 1}) == queue[2]
    assert next_by_side(queue[:2], {HOST: 5}) == queue[0]  # one side waiting: called
    assert next_by_side([], {}) is None
    policy = QueuePolicy.ALTERNATING
    assert next_speaker(policy, queue, {}, {HOST: 1, GUEST: 1}) == queue[0]
    assert [e.user_id for e in projected_order(policy, queue, {}, {GUEST: 1})] == [1, 2, 3, 4]


def test_side_turns_are_counted_as_stored() -> None:
    stored = with_turn(with_turn({}, HOST), HOST)
    assert stored == {"10": 2} and turns_of(stored) == {HOST: 2}
    assert with_turn(stored, None) == stored


@pytest.mark.parametrize(("days", "short"), [(0.5, True), (13.9, True), (14, False), (30, False)])
def test_notice_under_the_minimum_is_short(days: float, short: bool) -> None:
    notice = c.notice_given(NOW, NOW + timedelta(days=days))
    assert c.is_short_notice(notice, min_days=14) is short
    assert c.notice_given(NOW, NOW - timedelta(days=1)) == timedelta(0)


def propose(**changes: object) -> str:
    fields: dict[str, object] = {
        "leads_host": True,
        "host_id": HOST,
        "guest_id": GUEST,
        "basis": Basis.ISSUE,
        "host_region": None,
        "guest_region": None,
        "interaction": SessionFormat.OPEN_DEBATE,
        "purpose": "Follow-up",
        "starts_at": NOW + timedelta(days=3),
        "minutes": 90,
        "seats_per_side": 3,
        "now": NOW,
        **changes,
    }
    return c.check_propose(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"leads_host": False}, ErrorCode.NOT_CONSULTATION_CHAIR, None),
        ({"guest_id": HOST}, ErrorCode.VALIDATION, "guest"),
        ({"basis": Basis.REGION, "host_region": "africa"}, ErrorCode.VALIDATION, "basis"),
        ({"interaction": SessionFormat.BRIEFING}, ErrorCode.VALIDATION, "format"),
        ({"starts_at": NOW}, ErrorCode.VALIDATION, "starts_at"),
        ({"starts_at": NOW + timedelta(days=1200)}, ErrorCode.VALIDATION, "starts_at"),
        ({"starts_at": datetime(2005, 6, 1)}, ErrorCode.VALIDATION, "starts_at"),  # noqa: DTZ001
        ({"minutes": 10}, ErrorCode.VALIDATION, "minutes"),
        ({"minutes": 25 * 60}, ErrorCode.VALIDATION, "minutes"),
        ({"seats_per_side": 0}, ErrorCode.VALIDATION, "seats_per_side"),
        ({"purpose": " "}, ErrorCode.VALIDATION, "purpose"),
    ],
)
def test_a_proposal_is_refused(changes: dict[str, object], code: ErrorCode, field: str) -> None:
    with pytest.raises(ForumError) as refused:
        propose(**changes)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_a_proposal_between_regional_groups() -> None:
    assert propose(basis=Basis.REGION, host_region="africa", guest_region="africa") == "Follow-up"


def test_answers() -> None:
    c.check_answer(leads_awaited_side=True, status=ConsultationStatus.PROPOSED)
    c.check_answer(leads_awaited_side=True, status=ConsultationStatus.COUNTERED)
    with pytest.raises(ForumError) as refused:
        c.check_answer(leads_awaited_side=False, status=ConsultationStatus.PROPOSED)
    assert refused.value.code is ErrorCode.NOT_CONSULTATION_CHAIR
    with pytest.raises(ForumError) as refused:
        c.check_answer(leads_awaited_side=True, status=ConsultationStatus.ACCEPTED)
    assert refused.value.code is ErrorCode.CONFLICT
    with pytest.raises(ForumError):
        c.check_decline("")
    later = NOW + timedelta(days=20)
    c.check_counter(status=ConsultationStatus.PROPOSED, starts_at=later, minutes=60, now=NOW)
    with pytest.raises(ForumError) as refused:
        c.check_counter(status=ConsultationStatus.COUNTERED, starts_at=later, minutes=60, now=NOW)
    assert refused.value.code is ErrorCode.CONFLICT
    c.check_may_open(ConsultationStatus.ACCEPTED)
    with pytest.raises(ForumError):
        c.check_may_open(ConsultationStatus.PROPOSED)


def delegation(**changes: object) -> list[int]:
    fields: dict[str, object] = {
        "leads_side": True,
        "status": ConsultationStatus.ACCEPTED,
        "chosen": [1, 2, 2],
        "seats_per_side": 2,
        "eligible": {1, 2, 3},
        **changes,
    }
    return c.check_delegation(**fields)  # type: ignore[arg-type]


def test_each_side_names_its_own_delegation_within_the_seats() -> None:
    assert delegation() == [1, 2]
    for changes, code in (
        ({"leads_side": False}, ErrorCode.NOT_CONSULTATION_CHAIR),
        ({"chosen": [1, 2, 3]}, ErrorCode.DELEGATION_TOO_LARGE),
        ({"chosen": [4]}, ErrorCode.VALIDATION),
        ({"status": ConsultationStatus.DECLINED}, ErrorCode.CONFLICT),
    ):
        with pytest.raises(ForumError) as refused:
            delegation(**changes)
        assert refused.value.code is code


def test_who_leads_a_side_and_the_groups_taking_part() -> None:
    assert [c.leads(role) for role in (Role.CHAIR, Role.COORDINATOR, Role.MEMBER, None)] == [
        True,
        True,
        False,
        False,
    ]
    assert c.groups_taking_part(HOST, GUEST) == (HOST, GUEST)


def test_briefings() -> None:
    assert m.address(7) == "meeting:7" and m.meeting_id_in("meeting:7") == 7
    assert m.meeting_id_in("wgig") is None
    with pytest.raises(ForumError):
        m.meeting_id_in("meeting:x")
    m.check_call_briefing([Role.CHAIR], is_secretariat=False)
    m.check_call_briefing([], is_secretariat=True)
    with pytest.raises(ForumError):
        m.check_call_briefing([Role.COORDINATOR, Role.MEMBER], is_secretariat=False)
    assert m.check_invitees([3, 1, 3], {1, 3}) == [3, 1]
    for asked, found in (([], set()), ([1, 2], {1}), (list(range(200)), set(range(200)))):
        with pytest.raises(ForumError):
            m.check_invitees(asked, found)
    with pytest.raises(ForumError) as refused:
        m.check_admitted(admitted=False)
    assert refused.value.code is ErrorCode.NOT_INVITED
    with pytest.raises(ForumError):
        m.check_spectators(transcript_closed=True)
    m.check_spectators(transcript_closed=False)
    assert m.room_role(m.MeetingRole.CHAIR) is Role.CHAIR
    assert m.room_role(m.MeetingRole.DELEGATE) is Role.MEMBER and m.room_role(None) is None
    with pytest.raises(ForumError):
        m.check_record_outcome(is_chair=False, summary="x")
