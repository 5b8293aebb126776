"""The rules of contact requests, written out: who may ask whom, who answers, who reads
and writes; and what a directory entry may hold."""

from __future__ import annotations

import pytest

from forum.domain.contacts import (
    MAX_LANGUAGES,
    ContactStatus,
    Parties,
    check_answer_contact,
    check_contact_entry,
    check_read_contact,
    check_request_contact,
    check_write_contact,
    clean_reason,
    may_request_contact,
)
from forum.domain.vocabulary import Family
from forum.errors import ErrorCode, ForumError

DELEGATE, EXPERT, THIRD = 1, 2, 3


@pytest.mark.parametrize(
    ("family", "allowed"),
    [
        (Family.GOVERNMENT, True),
        (Family.CIVIL_SOCIETY, False),
        (Family.PRIVATE_SECTOR, False),
        (Family.INTERNATIONAL_ORG, False),
    ],
)
def test_government_delegates_send_requests(family: Family, allowed: bool) -> None:
    assert may_request_contact(family.value) is allowed


def _request(**changes: object) -> None:
    given: dict[str, object] = {
        "requester_id": DELEGATE,
        "requester_family": "government",
        "contact_id": EXPERT,
        "is_contact_point": True,
        "between": [],
    }
    check_request_contact(**{**given, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"requester_family": "civil_society"}, ErrorCode.FORBIDDEN),
        ({"contact_id": DELEGATE}, ErrorCode.VALIDATION),
        ({"is_contact_point": False}, ErrorCode.NOT_CONTACT_POINT),
        ({"between": ["declined", "pending"]}, ErrorCode.CONTACT_REQUEST_PENDING),
        ({"between": ["accepted"]}, ErrorCode.CONFLICT),
        ({}, None),
        ({"between": ["declined", "declined"]}, None),
    ],
)
def test_who_may_ask_whom(changes: dict[str, object], code: ErrorCode | None) -> None:
    if code is None:
        _request(**changes)
        return
    with pytest.raises(ForumError) as refused:
        _request(**changes)
    assert refused.value.code is code


# (status, who acts) -> the refusal's code, or None when allowed
ANSWER = {
    ("pending", EXPERT): None,
    ("pending", DELEGATE): ErrorCode.FORBIDDEN,
    ("pending", THIRD): ErrorCode.FORBIDDEN,
    ("accepted", EXPERT): ErrorCode.CONFLICT,
    ("declined", EXPERT): ErrorCode.CONFLICT,
}
WRITE = {
    ("accepted", DELEGATE): None,
    ("accepted", EXPERT): None,
    ("accepted", THIRD): ErrorCode.FORBIDDEN,
    ("pending", DELEGATE): ErrorCode.CONFLICT,
    ("declined", EXPERT): ErrorCode.CONFLICT,
}
READ = {
    (status, who): (ErrorCode.FORBIDDEN if who == THIRD else None)
    for status in ContactStatus
    for who in (DELEGATE, EXPERT, THIRD)
}


@pytest.mark.parametrize(
    ("check", "table"),
    [(check_answer_contact, ANSWER), (check_write_contact, WRITE), (check_read_contact, READ)],
)
def test_who_answers_writes_and_reads(check: object, table: dict[tuple[str, int], object]) -> None:
    for (status, who), code in table.items():
        parties = Parties(DELEGATE, EXPERT, str(status))
        try:
            check(parties, who)  # type: ignore[operator]
        except ForumError as refused:
            assert refused.code is code, (status, who)
        else:
            assert code is None, (status, who)


def test_a_directory_entry_is_cleaned() -> None:
    entry = check_contact_entry(
        expertise="  E-health records ", languages="English, , Twi, english", region=" africa "
    )
    assert (entry.expertise, entry.languages, entry.region) == (
        "E-health records",
        ("English", "Twi"),
        "africa",
    )
    empty = check_contact_entry(expertise="", languages=[], region=None)
    assert (empty.expertise, empty.languages, empty.region) == ("", (), None)
    assert check_contact_entry(expertise="", languages=["Arabic"], region="").region is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expertise": "x" * 501}, "expertise"),
        ({"expertise": "bad\u202eline"}, "expertise"),
        ({"languages": [f"L{n}" for n in range(MAX_LANGUAGES + 1)]}, "languages"),
        ({"languages": ["x" * 41]}, "languages"),
        ({"languages": [3]}, "languages"),
        ({"region": "atlantis"}, "region"),
    ],
)
def test_a_bad_entry_is_refused_naming_its_field(fields: dict[str, object], field: str) -> None:
    given: dict[str, object] = {"expertise": "", "languages": [], "region": None}
    with pytest.raises(ForumError) as refused:
        check_contact_entry(**{**given, **fields})  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION, field)


def test_a_reason_is_optional_and_bounded() -> None:
    assert clean_reason("  ") == ""
    assert clean_reason(" Away this week ") == "Away this week"
    with pytest.raises(ForumError) as refused:
        clean_reason("x" * 501)
    assert refused.value.field == "reason"
