"""The iCalendar writer's own rules (RFC 5545 3.1, 3.3.11), byte by byte, and what the
`icalendar` package reads back from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from forum.ics import Event, calendar, escape_text, fold, utc

START = datetime(2005, 11, 16, 9, tzinfo=timezone(timedelta(hours=1)))


def event(**changes: object) -> Event:
    values: dict[str, object] = {
        "uid": "session-1@agora.example",
        "sequence": 2,
        "stamp": datetime(2005, 11, 1, tzinfo=UTC),
        "created": datetime(2005, 10, 1, tzinfo=UTC),
        "starts_at": START,
        "ends_at": START + timedelta(hours=3),
        "summary": "Financing",
        "status": "CONFIRMED",
        "url": "https://agora.example/groups/wgig/room",
    }
    values.update(changes)
    return Event(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("a,b;c\\d", "a\\,b\\;c\\\\d"),
        ("line one\nline two\r\nthree\rfour", "line one\\nline two\\nthree\\nfour"),
        ("bell\x07 and nul\x00 gone, tab\tkept", "bell and nul gone\\, tab\tkept"),
    ],
)
def test_text_is_escaped(text: str, written: str) -> None:
    assert escape_text(text) == written


@pytest.mark.parametrize("line", ["x" * 75, "x" * 76, "é" * 100, "資" * 60, "a" + "🌍" * 40])
def test_lines_fold_at_75_octets_and_never_inside_a_character(line: str) -> None:
    written = fold(line)
    assert written.endswith("\r\n")
    physical = written.encode("utf-8").split(b"\r\n")[:-1]
    assert all(len(part) <= 75 for part in physical)
    assert all(part.startswith(b" ") for part in physical[1:])
    # Unfolding (3.1: remove CRLF and the one space after it) gives the line back.
    assert written[:-2].replace("\r\n ", "") == line


def test_only_a_long_line_is_folded() -> None:
    assert fold("x" * 75) == "x" * 75 + "\r\n"
    assert fold("x" * 76) == "x" * 75 + "\r\n x\r\n"


def test_times_are_utc_and_naive_ones_refused() -> None:
    assert utc(START) == "20051116T080000Z"
    with pytest.raises(ValueError, match="naive"):
        utc(datetime(2005, 11, 16, 9))  # noqa: DTZ001 - the refusal under test


def test_what_icalendar_reads_back() -> None:
    summary = "Financing; mechanisms, and follow-up — 資金調達 " * 3
    body = calendar(
        product="-//Agora//Sessions//EN",
        name="Room of WGIG",
        events=[
            event(summary=summary, description="1. Opening\n2. Q&A; close", categories=("a,b",)),
            event(uid="session-2@agora.example", status="CANCELLED", sequence=5),
        ],
        language="fr",
    )
    parsed = Calendar.from_ical(body)
    first, second = parsed.walk("VEVENT")
    assert str(first["SUMMARY"]) == summary
    assert str(first["DESCRIPTION"]) == "1. Opening\n2. Q&A; close"
    assert first.decoded("DTSTART") == datetime(2005, 11, 16, 8, tzinfo=UTC)
    assert first.decoded("DTSTART").utcoffset() == timedelta(0)
    assert int(str(first["SEQUENCE"])) == 2
    assert str(first["URL"]) == "https://agora.example/groups/wgig/room"
    assert str(second["STATUS"]) == "CANCELLED" and int(str(second["SEQUENCE"])) == 5
    assert str(parsed["X-WR-CALNAME"]) == "Room of WGIG"
    assert parsed["NAME"].params["LANGUAGE"] == "fr"
