"""iCalendar (RFC 5545) text, written by hand: a calendar of events, nothing more.

What the RFC asks of a writer, and where it is done here:

- lines end with CRLF, and a line longer than 75 octets is folded: CRLF then one
  space, never inside a UTF-8 sequence (3.1, `fold`);
- TEXT values escape backslash, semicolon, comma and line breaks (3.3.11,
  `escape_text`); control characters, which TEXT cannot carry, are dropped;
- times are written in UTC ("...Z", 3.3.5 form #2), which needs no VTIMEZONE; a
  calendar client shows them in its own zone;
- every event has a UID that stays the same across versions, the SEQUENCE of its
  version, and DTSTAMP (with no METHOD, the time the event last changed, 3.8.7.2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

CRLF = "\r\n"
MAX_OCTETS = 75
# Everything TEXT cannot carry (3.3.11: CONTROL except HTAB), line breaks aside.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Event:
    uid: str
    sequence: int
    stamp: datetime
    starts_at: datetime
    ends_at: datetime
    summary: str
    status: str
    url: str
    created: datetime
    description: str = ""
    location: str = ""
    categories: Sequence[str] = field(default_factory=tuple)


def escape_text(value: str) -> str:
    text = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line as written: at most 75 octets a physical line, CRLF-ended."""
    data = line.encode("utf-8")
    parts: list[bytes] = []
    start, limit = 0, MAX_OCTETS
    while len(data) - start > limit:
        end = start + limit
        # Back off to the first byte of a UTF-8 sequence (not a 10xxxxxx byte).
        while data[end] & 0xC0 == 0x80:
            end -= 1
        parts.append(data[start:end])
        # A continuation line's leading space is one of its 75 octets.
        start, limit = end, MAX_OCTETS - 1
    parts.append(data[start:])
    return (CRLF + " ").join(part.decode("utf-8") for part in parts) + CRLF


def utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _uri(value: str) -> str:
    # A URI value is not escaped (3.3.13), but must stay on its content line.
    return _CONTROL.sub("", value).replace("\r", "").replace("\n", "")


def _event_lines(event: Event) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{utc(event.stamp)}",
        f"CREATED:{utc(event.created)}",
        f"LAST-MODIFIED:{utc(event.stamp)}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTART:{utc(event.starts_at)}",
        f"DTEND:{utc(event.ends_at)}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"STATUS:{event.status}",
        f"URL:{_uri(event.url)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.categories:
        lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in event.categories))
    lines.append("END:VEVENT")
    return lines


def calendar(*, product: str, name: str, events: Sequence[Event], language: str = "en") -> bytes:
    """A VCALENDAR holding `events`, encoded as UTF-8."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{escape_text(product)}",
        "CALSCALE:GREGORIAN",
        f"NAME;LANGUAGE={language}:{escape_text(name)}",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines.extend(_event_lines(event))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines).encode("utf-8")
