"""Voice alongside text: a session's conference link, and turns spoken by voice.

A session may name the audio or video conference it is also held in (Jitsi,
BigBlueButton, Zoom). The forum only keeps the link and hands it to the people seated
in the room; it loads nothing from the conference itself. So that a link can never
run script or send a reader somewhere unexpected, it is an absolute `https` address
with a host, no credentials in it, and nothing but printable ASCII (an
internationalized host is written in its `xn--` form).

What is said in the conference is not in the log unless the chair records it: a
**voice turn** names who took the floor by voice, and optionally for how long. It
counts as a turn like a floor given in the room (the family's count that rotation
reads, the transcript, the speaking counts), so there is one notion of a turn
whatever the channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from forum.domain.vocabulary import Seat
from forum.errors import N_, ErrorCode, ForumError

CONFERENCE_URL_MAX = 500
VOICE_TURN_MAX_S = 4 * 3600

_FIELD = "conference_url"


def check_conference_url(value: str | None) -> str | None:
    """The link as stored, or None when it is blank (the session has no conference)."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > CONFERENCE_URL_MAX:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A conference link has at most {max} characters."),
            field=_FIELD,
            params={"max": CONFERENCE_URL_MAX},
        )
    if not all("!" <= char <= "~" for char in text):
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A conference link has no spaces and no characters outside ASCII."),
            field=_FIELD,
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION, N_("This is not a web address."), field=_FIELD
        ) from None
    if parts.scheme.lower() != "https":
        raise ForumError(
            ErrorCode.VALIDATION, N_("A conference link starts with https://."), field=_FIELD
        )
    if not parts.hostname or port == 0:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A conference link names its server, as in https://meet.jit.si/room."),
            field=_FIELD,
        )
    if parts.username is not None or parts.password is not None:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A conference link carries no user name or password before its host."),
            field=_FIELD,
        )
    return text


def check_record_voice_turn(
    *,
    is_chair: bool,
    session_open: bool,
    seats: Iterable[Seat],
    holds_floor: bool,
    duration_s: int | None,
) -> Seat:
    """May the chair record that someone spoke by voice? `seats` are the seats the
    speaker holds in the room now (none: not present). Returns the seat the turn is
    recorded from: a speaking seat, in the room before remote."""
    if not is_chair:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the chair may record a voice turn."))
    if not session_open:
        raise ForumError(ErrorCode.SESSION_NOT_OPEN, N_("No session is open in this room."))
    held = set(seats)
    if not held:
        raise ForumError(
            ErrorCode.NOT_PRESENT,
            N_("This person is not in the room: only someone seated can take the floor."),
            field="user_id",
        )
    for seat in (Seat.PARTICIPANT, Seat.REMOTE):
        if seat in held:
            break
    else:
        raise ForumError(
            ErrorCode.OBSERVER_CANNOT_SPEAK,
            N_("Observers cannot speak, by voice or in writing."),
            field="user_id",
        )
    if holds_floor:
        raise ForumError(
            ErrorCode.FLOOR_HELD,
            N_("This person holds the floor: their turn is counted already."),
            field="user_id",
        )
    if duration_s is not None and not 1 <= duration_s <= VOICE_TURN_MAX_S:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("A voice turn lasts from 1 to {max} seconds."),
            field="duration_s",
            params={"max": VOICE_TURN_MAX_S},
        )
    return seat


def speaking_counts(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Who spoke in a session, from its transcript entries, in order of first turn:
    turns (the floor given in the room, or taken by voice), of which by voice, with the
    seconds recorded for voice turns, and interventions written."""
    people: dict[int, dict[str, Any]] = {}

    def row(entry: Mapping[str, Any]) -> dict[str, Any]:
        return people.setdefault(
            entry["user_id"],
            {
                "user_id": entry["user_id"],
                "name": entry["name"],
                "family": entry.get("family"),
                "turns": 0,
                "voice_turns": 0,
                "voice_s": 0,
                "interventions": 0,
            },
        )

    for entry in entries:
        kind, op = entry["type"], entry["op"]
        if kind == "intervention":
            row(entry)["interventions"] += 1
        elif kind == "floor" and op in ("give", "voice"):
            found = row(entry)
            found["family"] = found["family"] or entry.get("family")
            found["turns"] += 1
            if op == "voice":
                found["voice_turns"] += 1
                found["voice_s"] += entry.get("duration_s") or 0
    return list(people.values())
