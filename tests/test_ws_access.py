"""Access windows and observer requests end to end: a real server, real WebSocket
clients, the JSON API; the time the window rules read is a clock the test moves (the
server's own timers find the window's end by it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from forum.db.models import AccessWindow, ObserverRequest, RoomEvent
from tests.people import Person, api, person
from tests.rooms_support import peer
from tests.support import LiveServer, WallClock

PLENARY = "cs-plenary"


async def count(server: LiveServer, model: Any) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def plenary_session_of(
    chair: Person, window_clock: WallClock, group: str, *, open_it: bool = True
) -> dict[str, Any]:
    """A sitting of `group`'s room, from an hour ago to an hour from now."""
    response = await api(
        chair,
        "POST",
        f"/api/rooms/{group}/sessions",
        {
            "title": "Daily plenary",
            "format": "open_debate",
            "starts_at": (window_clock.now - timedelta(hours=1)).isoformat(),
            "ends_at": (window_clock.now + timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    if open_it:
        opened = await api(chair, "POST", f"/api/rooms/{group}/sessions/{session['id']}/open")
        assert opened.status_code == 200, opened.text
    return session


async def plenary_session(chair: Person, window_clock: WallClock) -> dict[str, Any]:
    return await plenary_session_of(chair, window_clock, PLENARY)


async def last_15_minutes(chair: Person, session_id: int, **changes: Any) -> Any:
    return await api(
        chair,
        "POST",
        f"/api/rooms/{PLENARY}/sessions/{session_id}/windows",
        {
            "minutes_before_end": 15,
            "length_minutes": 15,
            "families": ["government"],
            "seat": "participant",
            "after": "observer",
            **changes,
        },
    )


async def test_a_briefing_window_seats_a_government_delegate_then_moves_them_to_observer(
    server: LiveServer, window_clock: WallClock
) -> None:
    chair = await person(server, family="civil_society", role="chair", group=PLENARY)
    delegate = await person(server, family="government", name="Delegate Anna")
    session = await plenary_session(chair, window_clock)
    made = await last_15_minutes(chair, session["id"])
    assert made.status_code == 201, made.text
    window = made.json()
    ends_at = datetime.fromisoformat(session["ends_at"])
    assert datetime.fromisoformat(window["starts_at"]) == ends_at - timedelta(minutes=15)
    assert datetime.fromisoformat(window["ends_at"]) == ends_at
    listed = await api(chair, "GET", f"/api/rooms/{PLENARY}/sessions/{session['id']}/windows")
    assert [w["id"] for w in listed.json()["windows"]] == [window["id"]]

    async with peer(server, chair) as c, peer(server, delegate) as d:
        assert (await c.join("participant", room=PLENARY))["type"] == "joined"
        # Before the window: refused with its code and times, still connected.
        refused = await d.join("remote", room=PLENARY)
        assert refused["type"] == "error" and refused["code"] == "access_window_closed"
        assert refused["starts_at"] == window["starts_at"]
        assert (await d.call({"type": "ping"}))["type"] == "pong"

        window_clock.now = ends_at - timedelta(minutes=10)
        joined = await d.join("remote", room=PLENARY)
        assert joined["type"] == "joined" and joined["seat"] == "remote", joined
        raised = await d.call({"type": "raise_hand"})
        assert raised["type"] == "ack", raised
        await c.expect("queue", op="raise", user_id=delegate.id)

        # The window ends: the server's timer moves the delegate, live.
        window_clock.now = ends_at + timedelta(seconds=1)
        ended = await c.expect("window", op="end", wait=5)
        assert ended["moved"] == [
            {"user_id": delegate.id, "name": "Delegate Anna", "seat": "observer"}
        ]
        lowered = [e for e in c.events() if e["type"] == "queue" and e["op"] == "lower"]
        assert [(e["user_id"], e["reason"]) for e in lowered] == [(delegate.id, "window")]
        assert lowered[0]["seq"] < ended["seq"]
        seat = await d.expect("seat", reason="window")
        assert seat["seat"] == "observer"
        presence = await c.expect("presence")
        assert [(u["user_id"], u["seat"]) for u in presence["users"]] == [(delegate.id, "observer")]
        # An observer now: no hand, no word.
        assert (await d.call({"type": "raise_hand"}))["code"] == "observer_cannot_speak"

    async with server.state["sessionmaker"]() as db:
        row = await db.get(AccessWindow, window["id"])
        assert row is not None and row.ended_at is not None
    # A reconnect finds the observer seat the window's end gave, until the session closes.
    async with peer(server, delegate) as again:
        assert (await again.join("observer", room=PLENARY))["seat"] == "observer"
        assert (await again.join("remote", room=PLENARY))["code"] == "forbidden"


async def test_a_window_that_runs_past_its_session_is_refused_and_nothing_is_written(
    server: LiveServer, window_clock: WallClock
) -> None:
    chair = await person(server, family="civil_society", role="chair", group=PLENARY)
    member = await person(server, family="civil_society", role="member", group=PLENARY)
    session = await plenary_session(chair, window_clock)
    events = await count(server, RoomEvent)
    async with peer(server, chair) as c:
        await c.join("participant", room=PLENARY)
        too_long = await last_15_minutes(chair, session["id"], length_minutes=20)
        assert too_long.status_code == 422
        error = too_long.json()["error"]
        assert error["code"] == "window_past_session" and error["field"] == "length"
        late = await last_15_minutes(
            chair,
            session["id"],
            minutes_before_end=None,
            starts_at=(window_clock.now + timedelta(minutes=50)).isoformat(),
        )
        assert late.json()["error"]["code"] == "window_past_session"
        not_chair = await last_15_minutes(member, session["id"])
        assert not_chair.status_code == 403
        unknown = await last_15_minutes(chair, session["id"], groups=["no-such-group"])
        assert unknown.status_code == 404
        # Nothing was published: the next frame is the answer to a ping.
        assert (await c.call({"type": "ping"}))["type"] == "pong"
        assert [e for e in c.events() if e["type"] == "window"] == []
    assert await count(server, AccessWindow) == 0
    assert await count(server, RoomEvent) == events


async def test_an_approved_observer_request_holds_its_seat(
    server: LiveServer, window_clock: WallClock
) -> None:
    chair = await person(server, role="chair", name="WGIG chair")
    observer = await person(server, family="civil_society", name="Observer Rosa")
    walk_in = await person(server, family="civil_society", name="Walk-in")
    asked = await api(observer, "POST", "/api/groups/wgig/observer-requests", {})
    assert asked.status_code == 201, asked.text
    again = await api(observer, "POST", "/api/groups/wgig/observer-requests", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "observer_request_pending"
    public = await api(walk_in, "GET", "/api/groups/wgig/observer-requests")
    assert public.json()["requests"] == []
    pending = await api(chair, "GET", "/api/groups/wgig/observer-requests")
    assert [r["status"] for r in pending.json()["requests"]] == ["pending"]
    request_id = asked.json()["id"]
    by_observer = await api(
        observer,
        "POST",
        f"/api/groups/wgig/observer-requests/{request_id}/decision",
        {"approve": True},
    )
    assert by_observer.status_code == 403
    approved = await api(
        chair,
        "POST",
        f"/api/groups/wgig/observer-requests/{request_id}/decision",
        {"approve": True},
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    listed = await api(walk_in, "GET", "/api/groups/wgig/observer-requests")
    assert [(r["requested_by"]["name"], r["family"]) for r in listed.json()["requests"]] == [
        ("Observer Rosa", "civil_society")
    ]

    async with peer(server, walk_in) as w, peer(server, observer) as o:
        # The one civil society seat is held for the approved observer.
        assert (await w.join("observer"))["code"] == "no_seat_available"
        assert (await o.join("observer"))["seat"] == "observer"


async def test_an_observer_request_to_a_room_that_allows_none_is_refused(
    server: LiveServer, window_clock: WallClock
) -> None:
    delegate = await person(server, family="government")
    # The civil society plenary's room has one observer seat, for civil society only.
    asked = await api(delegate, "POST", f"/api/groups/{PLENARY}/observer-requests", {})
    assert asked.status_code == 409
    assert asked.json()["error"]["code"] == "no_observer_seats"
    assert await count(server, ObserverRequest) == 0


async def test_a_window_for_a_group_ends_with_its_guests_out_of_the_room(
    server: LiveServer, window_clock: WallClock
) -> None:
    chair = await person(server, role="chair", name="WGIG chair")
    guest = await person(
        server, family="private_sector", role="member", group="africa-caucus", name="Guest Kofi"
    )
    outsider = await person(server, family="private_sector", name="Not invited")
    session = await plenary_session_of(chair, window_clock, "wgig")
    ends_at = datetime.fromisoformat(session["ends_at"])
    made = await api(
        chair,
        "POST",
        f"/api/rooms/wgig/sessions/{session['id']}/windows",
        {
            "starts_at": (ends_at - timedelta(minutes=30)).isoformat(),
            "length_minutes": 10,
            "groups": ["africa-caucus"],
            "seat": "remote",
            "after": "out",
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["groups"] != [] and made.json()["families"] == []
    window_clock.now = ends_at - timedelta(minutes=25)
    async with peer(server, chair) as c, peer(server, guest) as g, peer(server, outsider) as o:
        await c.join("participant", room="wgig")
        assert (await g.join("remote", room="wgig"))["seat"] == "remote"
        # The window admits the caucus, not the family.
        assert (await o.join("remote", room="wgig"))["code"] == "forbidden"
        spoke = await g.call({"type": "speak", "body": "Africa's view, briefly."})
        assert spoke["type"] == "ack", spoke

        window_clock.now = ends_at - timedelta(minutes=20)
        ended = await c.expect("window", op="end", wait=5)
        assert ended["moved"] == [{"user_id": guest.id, "name": "Guest Kofi", "seat": None}]
        assert (await g.expect("left", reason="window"))["room"] == ended["room"]
        presence = await c.expect("presence")
        assert [gone["user_id"] for gone in presence["left"]] == [guest.id]
        # Out: no seat, and the window does not let them back in.
        assert (await g.call({"type": "speak", "body": "One more"}))["type"] == "error"
        assert (await g.join("remote", room="wgig"))["code"] == "forbidden"


async def test_a_window_is_removed_until_it_opens(
    server: LiveServer, window_clock: WallClock
) -> None:
    chair = await person(server, family="civil_society", role="chair", group=PLENARY)
    session = await plenary_session(chair, window_clock)
    first = (await last_15_minutes(chair, session["id"])).json()
    second = (await last_15_minutes(chair, session["id"], minutes_before_end=50)).json()
    window_clock.now = datetime.fromisoformat(second["starts_at"]) + timedelta(minutes=1)
    async with peer(server, chair) as c:
        await c.join("participant", room=PLENARY)
        opened = await api(chair, "DELETE", f"/api/rooms/{PLENARY}/windows/{second['id']}")
        assert opened.status_code == 409
        removed = await api(chair, "DELETE", f"/api/rooms/{PLENARY}/windows/{first['id']}")
        assert removed.status_code == 200 and removed.json() == {"removed": first["id"]}
        event = await c.expect("window", op="remove")
        assert event["window"] == first["id"]
    listed = await api(chair, "GET", f"/api/rooms/{PLENARY}/sessions/{session['id']}/windows")
    assert [w["id"] for w in listed.json()["windows"]] == [second["id"]]


async def test_a_caucus_asks_and_one_member_at_a_time_holds_its_seat(
    server: LiveServer, window_clock: WallClock
) -> None:
    chair = await person(server, role="chair")
    coordinator = await person(
        server, family="civil_society", role="coordinator", group="africa-caucus"
    )
    members = [
        await person(server, family="civil_society", role="member", group="africa-caucus")
        for _ in range(2)
    ]
    # A member of the caucus does not ask on its behalf.
    not_lead = await api(
        members[0], "POST", "/api/groups/wgig/observer-requests", {"caucus": "africa-caucus"}
    )
    assert not_lead.status_code == 403
    asked = await api(
        coordinator, "POST", "/api/groups/wgig/observer-requests", {"caucus": "africa-caucus"}
    )
    assert asked.status_code == 201, asked.text
    decision = f"/api/groups/wgig/observer-requests/{asked.json()['id']}/decision"
    refused = await api(chair, "POST", decision, {"approve": False})
    assert refused.json()["error"]["field"] == "reason"
    assert (await api(chair, "POST", decision, {"approve": True})).status_code == 200
    assert (await api(chair, "POST", decision, {"approve": True})).status_code == 409
    listed = await api(chair, "GET", "/api/groups/wgig/observer-requests")
    assert [r["caucus"]["slug"] for r in listed.json()["requests"]] == ["africa-caucus"]
    async with peer(server, members[0]) as first, peer(server, members[1]) as second:
        assert (await first.join("observer"))["seat"] == "observer"
        # The caucus's seat is taken, and it was the room's only civil society seat.
        assert (await second.join("observer"))["code"] == "no_seat_available"
