"""Pure rules of a session's record and its calendar entry: who keeps the record, what a
follow-up may say, what a change lists, when a SEQUENCE grows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from forum.domain.calendars import CalendarFacts, calendar_status, next_sequence
from forum.domain.minutes import (
    FollowUpDraft,
    FollowUpStatus,
    changes_between,
    check_follow_up,
    check_keep_record,
    check_version,
    clean_minutes,
    parse_due,
    parse_status,
)
from forum.domain.session_groups import chairs_a_party, groups_taking_part
from forum.domain.sessions import SessionStatus, check_cancel_session
from forum.domain.vocabulary import Role
from forum.errors import ErrorCode, ForumError

START = datetime(2005, 11, 16, 8, tzinfo=UTC)
FACTS = CalendarFacts("Financing", "", START, START + timedelta(hours=3), SessionStatus.SCHEDULED)


def test_groups_taking_part_are_each_named_once_the_rooms_first() -> None:
    assert groups_taking_part(3) == [3]
    assert groups_taking_part(3, [7, 3, 7]) == [3, 7]
    assert groups_taking_part(None, [7, 9]) == [7, 9]


@pytest.mark.parametrize(
    ("roles", "secretariat", "keeps"),
    [
        ([Role.CHAIR], False, True),
        ([Role.COORDINATOR], False, True),
        ([None, Role.CHAIR], False, True),
        ([Role.MEMBER], False, False),
        ([Role.OBSERVER, Role.CONTACT_POINT], False, False),
        ([None], False, False),
        ([None], True, True),
        ([], False, False),
    ],
)
def test_who_keeps_the_record(roles: list[Role | None], secretariat: bool, keeps: bool) -> None:
    assert chairs_a_party(roles, is_secretariat=secretariat) is keeps


@pytest.mark.parametrize(
    ("keeps", "status", "code"),
    [
        (False, SessionStatus.CLOSED, ErrorCode.FORBIDDEN),
        (False, SessionStatus.OPEN, ErrorCode.FORBIDDEN),
        (True, SessionStatus.OPEN, ErrorCode.SESSION_NOT_CLOSED),
        (True, SessionStatus.SCHEDULED, ErrorCode.SESSION_NOT_CLOSED),
        (True, SessionStatus.CANCELLED, ErrorCode.SESSION_NOT_CLOSED),
        (True, SessionStatus.CLOSED, None),
    ],
)
def test_a_record_is_kept_once_closed(
    keeps: bool, status: SessionStatus, code: ErrorCode | None
) -> None:
    if code is None:
        check_keep_record(keeps_record=keeps, status=status)
        return
    with pytest.raises(ForumError) as refused:
        check_keep_record(keeps_record=keeps, status=status)
    assert refused.value.code is code


def test_a_write_on_an_older_version_is_refused() -> None:
    check_version(current=2, based_on=2)
    check_version(current=2, based_on=None)
    with pytest.raises(ForumError) as refused:
        check_version(current=3, based_on=2)
    assert refused.value.code is ErrorCode.CONFLICT
    assert refused.value.params["current"] == 3


@pytest.mark.parametrize(
    ("typed", "due"), [("", None), ("  ", None), ("2005-12-01", date(2005, 12, 1))]
)
def test_due_dates_as_typed(typed: str, due: date | None) -> None:
    assert parse_due(typed) == due


@pytest.mark.parametrize("typed", ["2005-13-01", "01/12/2005", "2005-1-1", "3000-01-01", "x"])
def test_bad_due_dates(typed: str) -> None:
    with pytest.raises(ForumError) as refused:
        parse_due(typed)
    assert refused.value.field == "due"


def test_statuses() -> None:
    assert parse_status("in_progress") is FollowUpStatus.IN_PROGRESS
    with pytest.raises(ForumError) as refused:
        parse_status("finished")
    assert refused.value.field == "status"


def test_a_follow_up_is_owned_by_a_party_and_says_something() -> None:
    clean = check_follow_up(FollowUpDraft("  Draft the study ", 3, None), parties=[3, 7])
    assert clean.item == "Draft the study"
    for draft, field in (
        (FollowUpDraft("Study", 9, None), "owner"),
        (FollowUpDraft("", 3, None), "item"),
        (FollowUpDraft("a\nb", 3, None), "item"),
        (FollowUpDraft("Study", 3, date(1980, 1, 1)), "due"),
    ):
        with pytest.raises(ForumError) as refused:
            check_follow_up(draft, parties=[3, 7])
        assert refused.value.field == field


def test_minutes_are_a_body() -> None:
    assert clean_minutes("Agreed.\r\n") == "Agreed.\n"
    for bad in ("  ", "bell\x07", "x" * 30_001):
        with pytest.raises(ForumError):
            clean_minutes(bad)


def test_changes_list_what_differs() -> None:
    before = {"item": "A", "status": "open", "due": None}
    after = {"item": "A", "status": "done", "due": "2005-12-01"}
    assert changes_between(before, after) == {
        "status": ["open", "done"],
        "due": [None, "2005-12-01"],
    }
    assert changes_between(after, after) == {}
    assert changes_between({}, {"item": "A"}) == {"item": [None, "A"]}


@pytest.mark.parametrize(
    "after",
    [
        CalendarFacts("Financing!", "", FACTS.starts_at, FACTS.ends_at, FACTS.status),
        CalendarFacts("Financing", "1.", FACTS.starts_at, FACTS.ends_at, FACTS.status),
        CalendarFacts(
            "Financing", "", START + timedelta(hours=1), FACTS.ends_at, SessionStatus.SCHEDULED
        ),
        CalendarFacts("Financing", "", START, START + timedelta(hours=4), FACTS.status),
        CalendarFacts("Financing", "", START, FACTS.ends_at, SessionStatus.CANCELLED),
    ],
)
def test_the_sequence_grows_with_each_change_a_calendar_shows(after: CalendarFacts) -> None:
    assert next_sequence(4, FACTS, after) == 5


def test_the_sequence_stays_when_nothing_shown_changed() -> None:
    assert next_sequence(4, FACTS, CalendarFacts(**FACTS.__dict__)) == 4


def test_calendar_status() -> None:
    assert calendar_status(SessionStatus.CANCELLED) == "CANCELLED"
    for status in (SessionStatus.SCHEDULED, SessionStatus.OPEN, SessionStatus.CLOSED):
        assert calendar_status(status) == "CONFIRMED"


@pytest.mark.parametrize(
    ("chair", "status", "code"),
    [
        (False, SessionStatus.SCHEDULED, ErrorCode.FORBIDDEN),
        (True, SessionStatus.OPEN, ErrorCode.CONFLICT),
        (True, SessionStatus.CLOSED, ErrorCode.CONFLICT),
        (True, SessionStatus.CANCELLED, ErrorCode.CONFLICT),
        (True, SessionStatus.SCHEDULED, None),
    ],
)
def test_who_cancels_what(chair: bool, status: SessionStatus, code: ErrorCode | None) -> None:
    if code is None:
        check_cancel_session(is_chair=chair, status=status)
        return
    with pytest.raises(ForumError) as refused:
        check_cancel_session(is_chair=chair, status=status)
    assert refused.value.code is code
