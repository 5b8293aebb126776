"""The iCalendar feeds through a real server: a room's, a group's and a person's, each
parsed by the `icalendar` package (and by a second reader when one is installed),
with the writer's own rules (CRLF, 75-octet lines) checked on the raw bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import vobject  # type: ignore[import-untyped]
from icalendar import Calendar

from forum.db.models import Attendance
from tests.factory import GROUP
from tests.people import Person, api, person
from tests.rooms_support import peer
from tests.support import LiveServer, client

TITLE = "Financing; mechanisms, and follow-up — Financement des mécanismes de suivi 資金調達"


def check_raw(body: bytes) -> None:
    assert body.endswith(b"\r\n")
    lines = body.split(b"\r\n")[:-1]
    for line in lines:
        assert len(line) <= 75, line
        assert b"\n" not in line and b"\r" not in line
        line.decode("utf-8")  # a fold never cuts a character in two
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-1] == b"END:VCALENDAR"


def second_reader(body: bytes) -> int:
    """The number of events a second, independent parser (vobject, Radicale's) reads."""
    parsed = vobject.readOne(body.decode("utf-8"))
    return len(parsed.contents.get("vevent", []))


async def fetch(server: LiveServer, path: str) -> tuple[httpx.Response, Calendar]:
    async with client(server) as http:
        response = await http.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    check_raw(response.content)
    parsed = Calendar.from_ical(response.content)
    assert parsed.get("VERSION") == "2.0"
    assert parsed.get("PRODID")
    assert second_reader(response.content) == len(parsed.walk("VEVENT"))
    return response, parsed


def events(parsed: Calendar) -> dict[str, Any]:
    return {str(event["SUMMARY"]): event for event in parsed.walk("VEVENT")}


async def schedule(chair: Person, title: str, start: str, end: str) -> dict[str, Any]:
    response = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {
            "title": title,
            "agenda": "1. Opening\n2. Statements, then; questions\n" + "Long line " * 30,
            "format": "statements",
            "starts_at": start,
            "ends_at": end,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_room_and_group_feeds_validate_and_follow_each_change(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    first = await schedule(chair, TITLE, "2005-11-16T09:00:00+01:00", "2005-11-16T12:00:00+01:00")
    other = await schedule(
        chair, "Regional", "2005-11-17T09:00:00+01:00", "2005-11-17T10:00:00+01:00"
    )

    _response, parsed = await fetch(server, f"/api/rooms/{GROUP}/calendar.ics")
    found = events(parsed)
    assert set(found) == {TITLE, "Regional"}
    entry = found[TITLE]
    start = entry.decoded("DTSTART")
    assert start.tzinfo is not None and start == datetime(2005, 11, 16, 8, tzinfo=UTC)
    assert entry.decoded("DTEND") == datetime(2005, 11, 16, 11, tzinfo=UTC)
    assert int(entry["SEQUENCE"]) == 0
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert str(entry["URL"]).endswith(f"/groups/{GROUP}/room")
    assert "Statements, then; questions" in str(entry["DESCRIPTION"])
    uid = str(entry["UID"])
    assert uid == f"session-{first['id']}@127.0.0.1"

    # A reschedule: same UID, the new time, a higher SEQUENCE.
    body = {
        "title": TITLE,
        "agenda": first["agenda"],
        "format": "statements",
        "starts_at": "2005-11-16T14:00:00+01:00",
        "ends_at": "2005-11-16T17:00:00+01:00",
    }
    moved = await api(chair, "PUT", f"/api/rooms/{GROUP}/sessions/{first['id']}", body)
    assert moved.status_code == 200, moved.text
    entry = events((await fetch(server, f"/api/rooms/{GROUP}/calendar.ics"))[1])[TITLE]
    assert str(entry["UID"]) == uid
    assert entry.decoded("DTSTART") == datetime(2005, 11, 16, 13, tzinfo=UTC)
    assert int(entry["SEQUENCE"]) == 1
    # Saving it unchanged changes nothing a calendar shows: the SEQUENCE stays.
    again = await api(chair, "PUT", f"/api/rooms/{GROUP}/sessions/{first['id']}", body)
    assert again.status_code == 200
    entry = events((await fetch(server, f"/api/rooms/{GROUP}/calendar.ics"))[1])[TITLE]
    assert int(entry["SEQUENCE"]) == 1

    # Cancelled: still listed, CANCELLED, its SEQUENCE up.
    cancelled = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{other['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    twice = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{other['id']}/cancel")
    assert twice.status_code == 409
    _response, parsed = await fetch(server, f"/api/groups/{GROUP}/calendar.ics")
    regional = events(parsed)["Regional"]
    assert str(regional["STATUS"]) == "CANCELLED"
    assert int(regional["SEQUENCE"]) == 1

    # Held: opening and closing change its status, so its SEQUENCE grows again, and
    # its page is now the transcript.
    for step in ("open", "close"):
        done = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{first['id']}/{step}")
        assert done.status_code == 200, done.text
    entry = events((await fetch(server, f"/api/groups/{GROUP}/calendar.ics"))[1])[TITLE]
    assert int(entry["SEQUENCE"]) == 3
    assert str(entry["URL"]).endswith(f"/sessions/{first['id']}/transcript")


async def test_a_cancel_is_the_chairs_alone_and_the_room_sees_it(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    row = await schedule(chair, "Plenary", "2005-11-16T09:00:00Z", "2005-11-16T10:00:00Z")
    async with peer(server) as watching:
        joined = await watching.join("spectator")
        assert joined["type"] == "joined"
        seq = joined["state"]["seq"]
        refused = await api(member, "POST", f"/api/rooms/{GROUP}/sessions/{row['id']}/cancel")
        assert refused.status_code == 403
        entry = events((await fetch(server, f"/api/rooms/{GROUP}/calendar.ics"))[1])["Plenary"]
        assert str(entry["STATUS"]) == "CONFIRMED" and int(entry["SEQUENCE"]) == 0

        done = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{row['id']}/cancel")
        assert done.status_code == 200
        frame = await watching.expect("session", op="cancel")
        # The refusal published nothing: the cancel is the next event.
        assert frame["seq"] == seq + 1
        assert frame["cancelled"]["id"] == row["id"]
        assert frame["cancelled"]["status"] == "cancelled"


async def test_a_persons_feed_is_theirs_by_a_secret_address(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    outsider = await person(
        server, family="civil_society", group="human-rights-caucus", role="member"
    )
    own = await schedule(chair, "Own group", "2005-11-16T09:00:00Z", "2005-11-16T10:00:00Z")
    # The outsider sat in one session of the working group, as an observer.
    async with server.state["sessionmaker"]() as session, session.begin():
        session.add(
            Attendance(session_id=own["id"], user_id=outsider.id, seat="observer", family="cs")
        )

    assert (await api(member, "GET", "/api/me/calendar")).json() == {"address": None}
    made = await api(member, "POST", "/api/me/calendar")
    assert made.status_code == 201
    address = made.json()["address"]
    # Written with the configured public address, whatever Host the request had.
    path = urlsplit(address).path
    assert path.startswith("/api/calendars/") and path.endswith(".ics")
    # No cookie, no token: the address alone.
    _response, parsed = await fetch(server, path)
    assert set(events(parsed)) == {"Own group"}
    assert member.user["display_name"] in str(parsed["X-WR-CALNAME"])

    theirs = (await api(outsider, "POST", "/api/me/calendar")).json()["address"]
    _response, parsed = await fetch(server, urlsplit(theirs).path)
    assert set(events(parsed)) == {"Own group"}

    async with client(server) as http:
        # A key with a forged signature, or no signature, opens nothing.
        key = path.removeprefix("/api/calendars/").removesuffix(".ics").split(".")[0]
        for forged in (f"/api/calendars/{key}.AAAA.ics", f"/api/calendars/{key}.ics"):
            assert (await http.get(forged)).status_code == 404
        # A new address replaces the old one; revoking ends the new one.
        renewed = (await api(member, "POST", "/api/me/calendar")).json()["address"]
        assert renewed != address
        assert (await http.get(path)).status_code == 404
        assert (await http.get(urlsplit(renewed).path)).status_code == 200
        revoked = await api(member, "DELETE", "/api/me/calendar")
        assert revoked.json() == {"address": None}
        gone = await http.get(urlsplit(renewed).path)
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path", ["/api/rooms/nowhere/calendar.ics", "/api/groups/nowhere/calendar.ics"]
)
async def test_an_unknown_room_or_group_has_no_feed(sqlite_server: LiveServer, path: str) -> None:
    async with client(sqlite_server) as http:
        assert (await http.get(path)).status_code == 404


async def test_a_second_reader_agrees(sqlite_server: LiveServer) -> None:
    """Every feed above is also read by vobject; here one event, by both readers."""
    chair = await person(sqlite_server, role="chair")
    await schedule(chair, "Plenary", "2005-11-16T09:00:00Z", "2005-11-16T10:00:00Z")
    response, parsed = await fetch(sqlite_server, f"/api/rooms/{GROUP}/calendar.ics")
    assert second_reader(response.content) == len(parsed.walk("VEVENT")) == 1
