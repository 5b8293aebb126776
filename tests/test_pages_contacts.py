"""The contact point pages over HTTP, without a browser: the directory per action line
and per group (signed out, no e-mail address), a contact point's entry and its form,
the request form, the list of one's requests, and a conversation that is refused to
anyone but its two people, the secretariat included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.contacts_support import C7_CAUCUS, contact_point, open_conversation
from tests.factory import PASSWORD
from tests.people import Person, api, person
from tests.support import Client, LiveServer, client, make_secretariat, token_in

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@asynccontextmanager
async def signed_in(server: LiveServer, who: Person) -> AsyncIterator[Client]:
    async with client(server, headers={"Origin": server.url}) as http:
        await http.login(who.user["email"], PASSWORD)
        yield http


async def test_the_directory_pages_read_signed_out_and_show_no_email(server: LiveServer) -> None:
    expert = await contact_point(
        server, name="Aida Opoku", expertise="e-health records", languages=("English", "Twi")
    )
    async with client(server) as anonymous:
        board = await anonymous.get("/action-lines/C7")
        line = await anonymous.get("/action-lines/C7/contacts")
        group = await anonymous.get(f"/groups/{C7_CAUCUS}")
        listed = await anonymous.get(f"/groups/{C7_CAUCUS}/contacts")
        entry = await anonymous.get(f"/contact-points/{expert.id}")
        french = await anonymous.get("/action-lines/C7/contacts", headers={"Accept-Language": "fr"})
    assert 'href="/action-lines/C7/contacts"' in board.text
    assert f'href="/groups/{C7_CAUCUS}/contacts"' in group.text
    for page in (line, listed, entry):
        assert page.status_code == 200
        assert "Aida Opoku" in page.text and "e-health records" in page.text
        assert "English, Twi" in page.text
        assert not EMAIL.search(page.text), EMAIL.search(page.text)
    assert "UN-Habitat" in line.text and "Facilitating agencies" in line.text
    assert "Sign in</a> as a government delegate" in entry.text
    assert "Agences facilitatrices" in french.text


async def test_a_contact_point_edits_their_entry_and_a_refusal_keeps_the_text(
    server: LiveServer,
) -> None:
    expert = await contact_point(server)
    async with signed_in(server, expert) as http:
        page = await http.get(f"/contact-points/{expert.id}")
        token = token_in(page.text)
        refused = await http.post(
            f"/contact-points/{expert.id}",
            data={
                "csrf_token": token,
                "expertise": "Broadband",
                "languages": "English",
                "region": "atlantis",
            },
        )
        assert refused.status_code == 422
        assert "Choose one of the regions." in refused.text and "Broadband" in refused.text
        saved = await http.post(
            f"/contact-points/{expert.id}",
            data={
                "csrf_token": token,
                "expertise": "Broadband",
                "languages": "English, Swahili, english",
                "region": "europe",
            },
        )
        assert saved.status_code == 303
    entry = (await api(expert, "GET", f"/api/contact-points/{expert.id}")).json()
    assert (entry["expertise"], entry["languages"], entry["region"]) == (
        "Broadband",
        ["English", "Swahili"],
        "europe",
    )
    other = await person(server, family="government")
    async with signed_in(server, other) as http:
        page = await http.get(f"/contact-points/{expert.id}")
        forbidden = await http.post(
            f"/contact-points/{expert.id}",
            data={
                "csrf_token": token_in(page.text),
                "expertise": "Mine now",
                "languages": "",
                "region": "",
            },
        )
    assert forbidden.status_code == 403


async def test_a_conversation_page_is_for_its_two_people_only(server: LiveServer) -> None:
    expert = await contact_point(server, name="Aida Opoku")
    delegate = await person(server, family="government", name="Delegate of Ghana")
    third = await person(server, family="government")
    clerk = await person(server, family="government")
    await make_secretariat(server, clerk.id)
    request_id = (await open_conversation(delegate, expert, "Hello **there**"))["id"]
    said = await api(
        delegate, "POST", f"/api/contact-requests/{request_id}/messages", {"body": "secret words"}
    )
    seq = said.json()["seq"]
    paths = [f"/contacts/{request_id}", f"/contacts/{request_id}/messages/{seq}/article"]
    for party in (delegate, expert):
        async with signed_in(server, party) as http:
            mine = await http.get("/contacts")
            assert f'href="/contacts/{request_id}"' in mine.text
            listed = f'href="/contact-points/{expert.id}"' in mine.text
            assert listed is (party is expert)
            for path in paths:
                page = await http.get(path)
                assert page.status_code == 200 and "secret words" in page.text
                assert page.headers["cache-control"] == "private, no-store"
                assert not EMAIL.search(page.text)
    for outsider in (third, clerk):
        async with signed_in(server, outsider) as http:
            assert f"/contacts/{request_id}" not in (await http.get("/contacts")).text
            for path in paths:
                page = await http.get(path, headers={"Accept": "text/html"})
                assert page.status_code == 403 and "secret words" not in page.text
            token = token_in((await http.get("/contacts")).text)
            wrote = await http.post(
                f"/contacts/{request_id}/messages", data={"csrf_token": token, "body": "me too"}
            )
            assert wrote.status_code == 403
    async with client(server) as anonymous:
        for path in paths:
            assert (await anonymous.get(path)).status_code == 401


async def test_a_contact_point_declines_from_the_page_with_a_reason(server: LiveServer) -> None:
    expert = await contact_point(server, name="Aida Opoku")
    delegate = await person(server, family="government", name="Delegate of Ghana")
    async with signed_in(server, delegate) as http:
        entry = await http.get(f"/contact-points/{expert.id}")
        token = token_in(entry.text)
        blank = await http.post(
            f"/contact-points/{expert.id}/request", data={"csrf_token": token, "body": " "}
        )
        assert blank.status_code == 422 and 'id="body-error"' in blank.text
        sent = await http.post(
            f"/contact-points/{expert.id}/request",
            data={"csrf_token": token, "body": "A question on *spectrum*"},
        )
        assert sent.status_code == 303
        path = sent.headers["location"].split("?")[0]
        again = await http.get(f"/contact-points/{expert.id}")
        assert "A request between you is waiting for an answer." in again.text
        assert 'name="body"' not in again.text
    async with signed_in(server, expert) as http:
        page = await http.get(path)
        token = token_in(page.text)
        assert "<em>spectrum</em>" in page.text and "Decline" in page.text
        too_long = await http.post(
            f"{path}/decline", data={"csrf_token": token, "reason": "why " * 200}
        )
        assert too_long.status_code == 422
        assert 'id="reason-error"' in too_long.text and "why why" in too_long.text
        declined = await http.post(f"{path}/decline", data={"csrf_token": token, "reason": "Away."})
        assert declined.status_code == 303
        twice = await http.post(f"{path}/accept", data={"csrf_token": token})
        assert twice.status_code == 409 and "This request is already answered." in twice.text
        early = await http.post(f"{path}/messages", data={"csrf_token": token, "body": "Hi"})
        assert early.status_code == 409
        assert 'role="alert">Messages are exchanged once' in early.text
        missing = await http.get(f"{path}/messages/9/article")
        assert missing.status_code == 404
        assert (await http.get("/contacts/2147483647")).status_code == 404
    async with signed_in(server, delegate) as http:
        page = await http.get(path)
        assert "declined" in page.text and "Reason: Away." in page.text


async def test_what_people_write_stays_text(server: LiveServer) -> None:
    expert = await contact_point(
        server, name="<img src=x onerror=alert(1)>", expertise="<script>alert(1)</script>"
    )
    delegate = await person(server, family="government")
    request_id = (await open_conversation(delegate, expert, "[go](javascript:alert(1))"))["id"]
    await api(
        expert,
        "POST",
        f"/api/contact-requests/{request_id}/messages",
        {"body": "<script>alert(2)</script> [x](vbscript:msgbox)"},
    )
    async with client(server) as anonymous:
        listed = await anonymous.get(f"/groups/{C7_CAUCUS}/contacts")
    async with signed_in(server, delegate) as http:
        talk = await http.get(f"/contacts/{request_id}")
    for page in (listed, talk):
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "onerror=" not in page.text.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listed.text
    assert 'href="javascript:' not in talk.text and 'href="vbscript:' not in talk.text
