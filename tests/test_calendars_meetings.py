"""The calendar feeds list meetings: a briefing in each invitee's own calendar, a
consultation in the calendars of both its sides, each linking to the meeting's page."""

from __future__ import annotations

from datetime import timedelta

import vobject  # type: ignore[import-untyped]
from icalendar import Calendar

from forum.db.base import utcnow
from tests.people import api, person
from tests.support import LiveServer, client, make_secretariat

WG, CAUCUS = "financing-wg", "financing-caucus"


async def feed(server: LiveServer, path: str) -> dict[str, str]:
    """The feed's events, summary to URL, as two independent parsers read them."""
    async with client(server) as http:
        response = await http.get(path)
    assert response.status_code == 200, response.text
    parsed = Calendar.from_ical(response.content)
    events = {str(e.get("SUMMARY")): str(e.get("URL")) for e in parsed.walk("VEVENT")}
    other = vobject.readOne(response.content.decode("utf-8"))
    assert len(other.contents.get("vevent", [])) == len(events)
    return events


async def test_meetings_are_in_the_calendars_of_those_who_take_part(server: LiveServer) -> None:
    secretariat = await person(server, family="international_org", name="Secretariat Ines")
    await make_secretariat(server, secretariat.id)
    invitee = await person(server, role="chair", group="sc2-infrastructure", name="Chair Kofi")
    bystander = await person(server, role="member", group="sc2-infrastructure", name="Otto")
    wg_chair = await person(server, role="chair", group=WG, name="Chair Maria")

    start = utcnow() + timedelta(days=20)
    briefing = await api(
        secretariat,
        "POST",
        "/api/briefings",
        {
            "title": "Briefing on the stocktaking",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "invitees": [invitee.id],
        },
    )
    assert briefing.status_code == 201, briefing.text
    consultation = await api(
        wg_chair,
        "POST",
        "/api/consultations",
        {
            "host": WG,
            "guest": CAUCUS,
            "basis": "issue",
            "title": "Financing the follow-up",
            "purpose": "Hear the caucus.",
            "format": "open_debate",
            "starts_at": start.isoformat(),
            "minutes": 90,
            "seats_per_side": 2,
        },
    )
    assert consultation.status_code == 201, consultation.text

    def personal(who_address: str) -> str:
        return "/" + who_address.split("/", 3)[3]

    addresses = {}
    for who in (invitee, bystander):
        made = await api(who, "POST", "/api/me/calendar")
        assert made.status_code in (200, 201), made.text
        addresses[who.id] = personal(made.json()["address"])

    briefing_url = f"/meetings/{briefing.json()['id']}"
    mine = await feed(server, addresses[invitee.id])
    assert mine["Briefing on the stocktaking"].endswith(briefing_url)
    assert "Briefing on the stocktaking" not in await feed(server, addresses[bystander.id])

    consultation_url = f"/meetings/{consultation.json()['id']}"
    for side in (WG, CAUCUS):
        listed = await feed(server, f"/api/groups/{side}/calendar.ics")
        assert listed["Financing the follow-up"].endswith(consultation_url)
    assert "Financing the follow-up" not in await feed(
        server, "/api/groups/sc2-infrastructure/calendar.ics"
    )
