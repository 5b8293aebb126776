"""Briefings and consultations in a real browser against a real server: a
consultation proposed from the working group's page at short notice (marked so on
its page and in the schedule), accepted and its delegations named by each side from
the meeting's page (an over-size delegation refused beside the field), its room's
queue alternating between the sides; a briefing called among four office-holders
from its form, whose room refuses someone not invited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser

from forum.db.base import utcnow
from tests.browser import live, signed_in
from tests.people import api, person
from tests.support import live_server, make_secretariat, make_settings

WG, CAUCUS = "financing-wg", "financing-caucus"


@pytest.mark.browser
@pytest.mark.timeout(180)
async def test_a_consultation_from_proposal_to_alternating_turns(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    async with live_server(make_settings(sqlite_url, tmp_path)) as server:
        chair = await person(server, role="chair", group=WG, name="Chair Maria")
        ade = await person(server, role="member", group=WG, name="Delegate Ade")
        bea = await person(server, role="member", group=WG, name="Delegate Bea")
        nia = await person(
            server, family="civil_society", role="coordinator", group=CAUCUS, name="Coord Nia"
        )
        ola = await person(
            server, family="civil_society", role="member", group=CAUCUS, name="CS Ola"
        )
        pia = await person(
            server, family="civil_society", role="member", group=CAUCUS, name="CS Pia"
        )

        c, c_problems = await signed_in(browser, server, chair)
        await c.goto(f"/groups/{WG}")
        await c.get_by_role("link", name="Propose a consultation").click()
        await c.select_option("#guest", CAUCUS)
        await c.fill("#title", "Financing the follow-up")
        await c.fill("#purpose", "Hear the caucus on the Digital Solidarity Fund.")
        await c.get_by_label("Open debate").check()
        start = (utcnow() + timedelta(days=6)).strftime("%Y-%m-%dT%H:%M")
        await c.fill("#starts_at", start)
        await c.fill("#minutes", "90")
        await c.fill("#seats_per_side", "2")
        await c.get_by_role("button", name="Propose").click()
        await c.wait_for_url("**/meetings/*")
        meeting_url = c.url
        assert "Short notice" in await c.locator("#notice").inner_text()
        await c.goto("/sessions")
        listed = c.locator("#meetings li", has_text="Financing the follow-up")
        assert "Short notice" in await listed.inner_text()

        # The working group's chair cannot answer for the caucus: no form is offered.
        await c.goto(meeting_url)
        assert await c.locator("#answer-form").count() == 0

        n, n_problems = await signed_in(browser, server, nia)
        await n.goto(meeting_url)
        await n.get_by_role("button", name="Send the answer").click()
        await n.wait_for_url(meeting_url)
        assert await n.locator("#consultation-status").inner_text() == "accepted"
        # The caucus names its own people; the working group's form is not offered to it.
        assert await n.locator(f"#delegation-{WG}").count() == 0
        form = n.locator(f"#delegation-{CAUCUS}")
        for who in (ola, pia, nia):
            await form.locator(f'input[value="{who.id}"]').check()
        await form.get_by_role("button").click()
        assert "at most 2 people" in await n.locator(".field-error").inner_text()
        await n.locator(f'#delegation-{CAUCUS} input[value="{nia.id}"]').uncheck()
        await n.locator(f"#delegation-{CAUCUS}").get_by_role("button").click()
        await n.wait_for_url(meeting_url)
        assert "CS Ola" in await n.locator("ul.people").nth(1).inner_text()

        await c.goto(meeting_url)
        for who in (ade, bea):
            await c.locator(f'#delegation-{WG} input[value="{who.id}"]').check()
        await c.locator(f"#delegation-{WG}").get_by_role("button").click()
        await c.wait_for_url(meeting_url)
        assert "Delegate Bea" in await c.locator("ul.people").first.inner_text()

        # The room: its seats from both delegations, its queue alternating.
        meeting_id = int(meeting_url.rstrip("/").rsplit("/", 1)[1])
        record = (await api(chair, "GET", f"/api/meetings/{meeting_id}")).json()
        opened = await api(
            chair,
            "POST",
            f"/api/rooms/meeting:{meeting_id}/sessions/{record['session']['id']}/open",
        )
        assert opened.status_code == 200, opened.text
        await c.goto(f"/meetings/{meeting_id}/room")
        await live(c)
        assert "alternating between the two sides" in await c.locator("#policy").inner_text()
        pages = []
        for who in (ade, bea, ola):
            page, problems = await signed_in(browser, server, who)
            await page.goto(f"/meetings/{meeting_id}/room?seat=remote")
            await live(page)
            await page.locator("#hand").click()
            await c.locator(f'#queue li[data-user="{who.id}"]').wait_for()
            pages.append((page, problems))
        order = [
            int(value or 0)
            for value in await c.locator("#queue > li").evaluate_all(
                "items => items.map(item => item.dataset.user)"
            )
        ]
        assert order == [ade.id, ola.id, bea.id]
        assert not c_problems and not n_problems
        assert not [problem for _page, problems in pages for problem in problems]


@pytest.mark.browser
@pytest.mark.timeout(120)
async def test_a_briefing_among_four_office_holders(
    sqlite_url: str, tmp_path: Path, browser: Browser
) -> None:
    async with live_server(make_settings(sqlite_url, tmp_path)) as server:
        secretariat = await person(server, family="international_org", name="Secretariat Ines")
        await make_secretariat(server, secretariat.id)
        kofi = await person(server, role="chair", group="sc2-infrastructure", name="Chair Kofi")
        ana = await person(server, role="coordinator", group="ct-drafting", name="Facilitator Ana")
        lin = await person(
            server, family="civil_society", role="chair", group="ct-coordination", name="Chair Lin"
        )
        otto = await person(server, role="member", group=WG, name="Member Otto")

        s, s_problems = await signed_in(browser, server, secretariat)
        await s.goto("/sessions")
        await s.get_by_role("link", name="Call a briefing").click()
        await s.fill("#title", "Briefing on the follow-up")
        start = utcnow() + timedelta(days=2)
        await s.fill("#starts_at", start.strftime("%Y-%m-%dT%H:%M"))
        await s.fill("#ends_at", (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        await s.get_by_role("button", name="Call the briefing").click()
        assert "Name at least one invitee." in await s.locator(".field-error").inner_text()
        for who in (secretariat, kofi, ana, lin):
            await s.locator(f'input[name="invitees"][value="{who.id}"]').check()
        await s.get_by_role("button", name="Call the briefing").click()
        await s.wait_for_url("**/meetings/*")
        people = await s.locator("ul.people").first.inner_text()
        for name in ("Secretariat Ines", "Chair Kofi", "Facilitator Ana", "Chair Lin"):
            assert name in people
        meeting_id = int(s.url.rstrip("/").rsplit("/", 1)[1])

        k, k_problems = await signed_in(browser, server, kofi)
        await k.goto(f"/meetings/{meeting_id}/room")
        await live(k)
        o, o_problems = await signed_in(browser, server, otto)
        await o.goto(f"/meetings/{meeting_id}/room")
        refusal = o.locator("#seat-error")
        await refusal.wait_for(timeout=10_000)
        assert "Only the people invited" in await refusal.inner_text()
        assert not s_problems and not k_problems and not o_problems
