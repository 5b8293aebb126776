"""The schedule of every session through the real server: live, to come and past,
filtered by group, action line and stakeholder family, paged, and a filter naming
nothing refused beside its field."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from forum.db.base import utcnow
from forum.db.models import Group, Room, RoomSession
from forum.db.schedule_queries import SCHEDULE_PAGE
from tests.people import Person, api, person
from tests.rooms_support import schedule_and_open
from tests.support import LiveServer, client


async def _schedule(who: Person, room: str, title: str, day: str) -> int:
    response = await api(
        who,
        "POST",
        f"/api/rooms/{room}/sessions",
        {
            "title": title,
            "agenda": "",
            "format": "statements",
            "starts_at": f"{day}T09:00:00Z",
            "ends_at": f"{day}T11:00:00Z",
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _titles(page: str, section: str) -> list[str]:
    """The session titles listed in one section of the page ("" if it is absent)."""
    part = page.split(f'id="{section}"')
    if len(part) < 2:
        return []
    block = part[1].split("</section>")[0]
    return [html.unescape(t) for t in re.findall(r"<strong><bdi>([^<]+)</bdi></strong>", block)]


async def test_the_schedule_lists_and_filters_every_room(server: LiveServer) -> None:
    wg_chair = await person(server, role="chair")
    caucus_chair = await person(
        server, role="coordinator", group="gender-caucus", family="civil_society"
    )
    closed = await schedule_and_open(wg_chair, title="Closed sitting")
    done = await api(wg_chair, "POST", f"/api/rooms/wgig/sessions/{closed['id']}/close")
    assert done.status_code == 200
    await schedule_and_open(wg_chair, title="Open sitting")
    await _schedule(wg_chair, "wgig", "Governance later", "2099-05-01")
    await _schedule(caucus_chair, "gender-caucus", "Gender later", "2099-04-01")
    await _schedule(caucus_chair, "gender-caucus", "Never opened", "2001-01-01")

    async with client(server) as http:
        everything = (await http.get("/sessions")).text
        assert _titles(everything, "live-now") == ["Open sitting"]
        assert _titles(everything, "to-come") == ["Gender later", "Governance later"]
        past = _titles(everything, "gone-by")
        assert past == ["Closed sitting", "Never opened"]  # 2005 before 2001
        assert f'href="/sessions/{closed["id"]}/transcript"' in everything
        assert "not held" in everything.split('id="gone-by"')[1]

        caucuses = (await http.get("/sessions", params={"family": "civil_society"})).text
        assert _titles(caucuses, "live-now") == []
        assert _titles(caucuses, "to-come") == ["Gender later"]
        assert _titles(caucuses, "gone-by") == ["Never opened"]
        assert '<option value="civil_society" selected>' in caucuses

        on_c6 = (await http.get("/sessions", params={"action_line": "C6"})).text
        assert _titles(on_c6, "to-come") == ["Governance later"]
        assert _titles(on_c6, "live-now") == ["Open sitting"]

        group = (await http.get("/sessions", params={"group": "gender-caucus"})).text
        assert _titles(group, "to-come") == ["Gender later"]
        both = await http.get("/sessions", params={"group": "gender-caucus", "action_line": "C6"})
        assert _titles(both.text, "to-come") == [] and both.status_code == 200


async def test_a_filter_naming_nothing_is_refused_beside_its_field(
    sqlite_server: LiveServer,
) -> None:
    async with client(sqlite_server) as http:
        answer = await http.get(
            "/sessions", params={"group": "no-such-group", "family": "government"}
        )
        french = await http.get(
            "/sessions", params={"family": "aliens"}, headers={"Accept-Language": "fr"}
        )
        cursor = await http.get("/sessions", params={"past": "not a cursor"})
    assert answer.status_code == 422
    beside = re.search(r'<span class="field-error" id="group-error">([^<]+)</span>', answer.text)
    assert beside and beside.group(1) == "Choose one of the groups."
    assert re.search(r'<select id="group" name="group" aria-describedby="group-error"', answer.text)
    assert '<option value="government" selected>' in answer.text  # the rest is kept
    assert 'id="gone-by"' not in answer.text
    assert french.status_code == 422
    assert "Choisissez l'une des familles de parties prenantes." in html.unescape(french.text)
    assert cursor.status_code == 422 and "The cursor is not valid." in cursor.text


async def test_past_sessions_are_paged_from_the_latest(sqlite_server: LiveServer) -> None:
    start = utcnow() - timedelta(days=400)
    async with sqlite_server.state["sessionmaker"]() as session, session.begin():
        room_id = await session.scalar(
            select(Room.id).join(Group, Group.id == Room.group_id).where(Group.slug == "wgig")
        )
        assert room_id is not None
        for n in range(SCHEDULE_PAGE + 3):
            begins = start + timedelta(days=n)
            session.add(
                RoomSession(
                    room_id=room_id,
                    title=f"Past {n:02d}",
                    format="statements",
                    status="closed",
                    starts_at=begins,
                    ends_at=begins + timedelta(hours=2),
                )
            )
    async with client(sqlite_server) as http:
        first = (await http.get("/sessions", params={"group": "wgig"})).text
        shown = _titles(first, "gone-by")
        newest = SCHEDULE_PAGE + 2
        assert shown == [f"Past {n:02d}" for n in range(newest, 2, -1)]
        link = re.search(r'<a rel="next" href="(/sessions\?[^"]+)">Earlier sessions</a>', first)
        assert link and "group=wgig" in link.group(1)
        second = (await http.get(html.unescape(link.group(1)))).text
    assert _titles(second, "gone-by") == ["Past 02", "Past 01", "Past 00"]
    assert "Earlier sessions" not in second
