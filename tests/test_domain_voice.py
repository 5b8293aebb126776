"""The rules of voice alongside text: which conference links are kept, who may record
a voice turn, and how turns are counted per person."""

from __future__ import annotations

from typing import Any

import pytest

from forum.domain.vocabulary import Seat
from forum.domain.voice import (
    CONFERENCE_URL_MAX,
    VOICE_TURN_MAX_S,
    check_conference_url,
    check_record_voice_turn,
    speaking_counts,
)
from forum.errors import ErrorCode, ForumError


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://meet.jit.si/AgoraWSIS-C7", "https://meet.jit.si/AgoraWSIS-C7"),
        ("  https://bbb.example.org/b/abc-def-ghi \n", "https://bbb.example.org/b/abc-def-ghi"),
        (
            "https://us02web.zoom.us/j/8512345678?pwd=AbC",
            "https://us02web.zoom.us/j/8512345678?pwd=AbC",
        ),
        ("HTTPS://Meet.Example:8443/room#x", "HTTPS://Meet.Example:8443/room#x"),
        ("https://xn--80ak6aa92e.example/room", "https://xn--80ak6aa92e.example/room"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_conference_links_kept(given: str | None, kept: str | None) -> None:
    assert check_conference_url(given) == kept


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("http://meet.jit.si/room", "starts with https"),
        ("javascript:alert(1)", "starts with https"),
        ("data:text/html,<script>", "starts with https"),
        ("//meet.jit.si/room", "starts with https"),
        ("meet.jit.si/room", "starts with https"),
        ("https:///room", "names its server"),
        ("https://:443/room", "names its server"),
        ("https://meet.example:0/room", "names its server"),
        ("https://user:secret@meet.example/room", "no user name or password"),
        ("https://evil@meet.example/room", "no user name or password"),
        ("https://meet.example/a room", "no spaces"),
        ("https://meet.example/\u202eroom", "no spaces"),
        ("https://réunion.example/room", "no spaces"),
        ("https://meet.example/\x00", "no spaces"),
        ("https://[::1/room", "not a web address"),
        ("https://meet.example:99999/room", "not a web address"),
        ("https://meet.example/" + "a" * CONFERENCE_URL_MAX, "at most 500"),
    ],
)
def test_conference_links_refused(given: str, says: str) -> None:
    with pytest.raises(ForumError) as refused:
        check_conference_url(given)
    assert refused.value.code is ErrorCode.VALIDATION
    assert refused.value.field == "conference_url"
    assert says in refused.value.message


def _turn(**changes: Any) -> Seat:
    fields: dict[str, Any] = {
        "is_chair": True,
        "session_open": True,
        "seats": {Seat.REMOTE},
        "holds_floor": False,
        "duration_s": None,
    }
    return check_record_voice_turn(**{**fields, **changes})


@pytest.mark.parametrize(
    ("seats", "recorded"),
    [
        ({Seat.REMOTE}, Seat.REMOTE),
        ({Seat.PARTICIPANT}, Seat.PARTICIPANT),
        # Two tabs: the seat in the room is the one the turn is recorded from.
        ({Seat.REMOTE, Seat.PARTICIPANT}, Seat.PARTICIPANT),
        ({Seat.OBSERVER, Seat.REMOTE}, Seat.REMOTE),
    ],
)
def test_a_voice_turn_is_recorded_from_a_speaking_seat(seats: set[Seat], recorded: Seat) -> None:
    assert _turn(seats=seats) is recorded
    assert _turn(seats=seats, duration_s=1) is recorded
    assert _turn(seats=seats, duration_s=VOICE_TURN_MAX_S) is recorded


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"is_chair": False}, ErrorCode.FORBIDDEN, None),
        # The chair's right comes first: a non-chair learns nothing of the room.
        ({"is_chair": False, "seats": set()}, ErrorCode.FORBIDDEN, None),
        ({"session_open": False}, ErrorCode.SESSION_NOT_OPEN, None),
        ({"seats": set()}, ErrorCode.NOT_PRESENT, "user_id"),
        ({"seats": {Seat.OBSERVER}}, ErrorCode.OBSERVER_CANNOT_SPEAK, "user_id"),
        ({"holds_floor": True}, ErrorCode.FLOOR_HELD, "user_id"),
        ({"duration_s": 0}, ErrorCode.VALIDATION, "duration_s"),
        ({"duration_s": VOICE_TURN_MAX_S + 1}, ErrorCode.VALIDATION, "duration_s"),
    ],
)
def test_a_voice_turn_refused(changes: dict[str, Any], code: ErrorCode, field: str | None) -> None:
    with pytest.raises(ForumError) as refused:
        _turn(**changes)
    assert refused.value.code is code
    assert refused.value.field == field


def test_speaking_counts_take_turns_in_the_room_and_by_voice_as_one() -> None:
    entries: list[dict[str, Any]] = [
        {"type": "session", "op": "open"},
        {"type": "floor", "op": "give", "user_id": 7, "name": "Ama", "family": "government"},
        {"type": "intervention", "op": "post", "user_id": 7, "name": "Ama", "family": "government"},
        {"type": "floor", "op": "take", "user_id": 7, "name": "Ama", "family": None},
        # The chair writes without the floor: an intervention, not a turn.
        {
            "type": "intervention",
            "op": "post",
            "user_id": 2,
            "name": "Chair",
            "family": "government",
        },
        {
            "type": "floor",
            "op": "voice",
            "user_id": 9,
            "name": "Kim",
            "family": "private_sector",
            "duration_s": 90,
        },
        {
            "type": "floor",
            "op": "voice",
            "user_id": 7,
            "name": "Ama",
            "family": "government",
            "duration_s": None,
        },
        {
            "type": "floor",
            "op": "voice",
            "user_id": 9,
            "name": "Kim",
            "family": "private_sector",
            "duration_s": 30,
        },
        {"type": "floor", "op": "extend", "user_id": 9, "name": "Kim", "family": "private_sector"},
    ]
    assert speaking_counts(entries) == [
        {
            "user_id": 7,
            "name": "Ama",
            "family": "government",
            "turns": 2,
            "voice_turns": 1,
            "voice_s": 0,
            "interventions": 1,
        },
        {
            "user_id": 2,
            "name": "Chair",
            "family": "government",
            "turns": 0,
            "voice_turns": 0,
            "voice_s": 0,
            "interventions": 1,
        },
        {
            "user_id": 9,
            "name": "Kim",
            "family": "private_sector",
            "turns": 2,
            "voice_turns": 2,
            "voice_s": 120,
            "interventions": 0,
        },
    ]
    assert speaking_counts([]) == []
