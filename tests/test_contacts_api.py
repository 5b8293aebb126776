"""Contact points over JSON, through a real server on SQLite and PostgreSQL: the public
directory (never an e-mail address), a delegate's request, the contact point's answer,
the private conversation that only its two people read (not a third person, not the
secretariat, not a search), followed live by server-sent events; and the refusals that
write nothing and publish nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from forum.broker import user_channel
from forum.domain.textcheck import MAX_BODY_BYTES
from tests.bad_input_support import table_rows
from tests.capture import EventCapture
from tests.contacts_support import C7_CAUCUS, contact_point, open_conversation
from tests.people import api, person
from tests.support import LiveServer, client, make_secretariat
from tests.test_discussions_live import events
from tests.test_sse_limits import listeners_left, memory_broker

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


async def test_the_c7_directory_lists_contact_points_beside_the_facilitators(
    server: LiveServer,
) -> None:
    expert = await contact_point(
        server, name="Aida Opoku", expertise="e-health records", languages=("English", "Twi")
    )
    await contact_point(server, group="media-caucus", name="Not In C7")
    async with client(server) as anonymous:
        line = await anonymous.get("/api/action-lines/C7/contact-points")
        group = await anonymous.get(f"/api/groups/{C7_CAUCUS}/contact-points")
        entry = await anonymous.get(f"/api/contact-points/{expert.id}")
        nobody = await anonymous.get(f"/api/contact-points/{(await person(server)).id}")
    assert line.status_code == 200, line.text
    body = line.json()
    assert "WHO" in body["action_line"]["facilitators"]
    assert [e["user"]["display_name"] for e in body["contact_points"]] == ["Aida Opoku"]
    listed = body["contact_points"][0]
    assert listed["expertise"] == "e-health records"
    assert listed["languages"] == ["English", "Twi"]
    assert listed["region"] == "africa"
    assert listed["groups"] == [{"slug": C7_CAUCUS, "name": "Health Caucus"}]
    assert group.json()["contact_points"] == body["contact_points"]
    assert entry.json() == listed
    assert nobody.status_code == 404
    # Only a contact point has an entry; theirs changes in place.
    stranger = await person(server, family="civil_society")
    refused = await api(stranger, "PUT", "/api/me/contact-entry", {"expertise": "Anything"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "not_contact_point")
    changed = await api(
        expert, "PUT", "/api/me/contact-entry", {"expertise": "e-health records", "region": None}
    )
    assert changed.json()["languages"] == [] and changed.json()["region"] == "africa"
    for answer in (line, group, entry):
        assert not EMAIL.search(answer.text), answer.text
        assert expert.user["email"] not in answer.text


async def test_a_delegate_reaches_a_contact_point_and_only_the_two_read_it(
    server: LiveServer, capture_events: EventCapture
) -> None:
    expert = await contact_point(server, name="Aida Opoku")
    delegate = await person(server, family="government", name="Delegate of Ghana")
    third = await person(server, family="government")
    clerk = await person(server, family="government")
    await make_secretariat(server, clerk.id)

    sent = await api(
        delegate,
        "POST",
        "/api/contact-requests",
        {"contact_id": expert.id, "body": "Could you brief us on **e-health** records?"},
    )
    assert sent.status_code == 201, sent.text
    request_id = sent.json()["id"]
    assert sent.json()["status"] == "pending"
    assert "<strong>e-health</strong>" in sent.json()["message"]["html"]
    received = await api(expert, "GET", "/api/contact-requests")
    assert [r["id"] for r in received.json()["requests"]] == [request_id]
    assert received.headers["cache-control"] == "private, no-store"

    early = await api(
        delegate, "POST", f"/api/contact-requests/{request_id}/messages", {"body": "?"}
    )
    assert (early.status_code, early.json()["error"]["code"]) == (409, "conflict")
    by_requester = await api(delegate, "POST", f"/api/contact-requests/{request_id}/accept")
    assert by_requester.status_code == 403
    async with capture_events(server, contacts=(request_id,), expected=1) as heard:
        accepted = await api(expert, "POST", f"/api/contact-requests/{request_id}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert [(m["type"], m["op"]) for m in heard.events] == [("request", "accepted")]

    asked = await api(
        delegate,
        "POST",
        f"/api/contact-requests/{request_id}/messages",
        {"body": "zanzibarwords here"},
    )
    answered = await api(
        expert, "POST", f"/api/contact-requests/{request_id}/messages", {"body": "Gladly."}
    )
    assert asked.status_code == answered.status_code == 201
    for party in (delegate, expert):
        read = await api(party, "GET", f"/api/contact-requests/{request_id}")
        assert read.status_code == 200
        assert [m["body"] for m in read.json()["messages"]] == ["zanzibarwords here", "Gladly."]
        assert not EMAIL.search(read.text)

    # A public post with the same word: the search finds it, and only it.
    public = await api(
        third,
        "POST",
        "/api/action-lines/C7/threads",
        {"title": "Records", "body": "zanzibarwords in public"},
    )
    assert public.status_code == 201, public.text
    before = await table_rows(server)
    async with capture_events(server, contacts=(request_id,), expected=0):
        for outsider in (third, clerk):
            for method, path, body in (
                ("GET", "", None),
                ("GET", "/events", None),
                ("POST", "/messages", {"body": "Let me in."}),
                ("POST", "/decline", {"reason": "no"}),
            ):
                refused = await api(
                    outsider, method, f"/api/contact-requests/{request_id}{path}", body
                )
                assert refused.status_code == 403, (path, refused.text)
                assert refused.json()["error"]["code"] == "forbidden"
                assert "zanzibarwords" not in refused.text
            mine = await api(outsider, "GET", "/api/contact-requests")
            assert mine.json() == {"requests": []}
        async with client(server) as anonymous:
            signed_out = await anonymous.get(f"/api/contact-requests/{request_id}")
            assert signed_out.status_code == 401
            found = await anonymous.get("/api/search", params={"q": "zanzibarwords"})
            feed = await anonymous.get("/action-lines/C7/feed.atom")
            page = await anonymous.get("/search", params={"q": "zanzibarwords"})
        hits = found.json()["hits"]
        assert [hit["post_id"] for hit in hits] == [public.json()["post"]["id"]], hits
        assert "zanzibarwords in public" in feed.text and "zanzibarwords here" not in feed.text
        assert page.text.count("<mark>") == 1 and "here" not in page.text.split("<mark>")[1][:40]
        assert await table_rows(server) == before


async def test_refused_requests_write_nothing(server: LiveServer) -> None:
    expert = await contact_point(server)
    member = await person(server, family="civil_society", role="member", group=C7_CAUCUS)
    delegate = await person(server, family="government")
    ngo = await person(server, family="civil_society")
    before = await table_rows(server)
    cases: list[tuple[Any, dict[str, Any], int, str]] = [
        (delegate, {"contact_id": member.id, "body": "Hello"}, 422, "not_contact_point"),
        (ngo, {"contact_id": expert.id, "body": "Hello"}, 403, "forbidden"),
        (delegate, {"contact_id": delegate.id, "body": "Hello"}, 422, "validation_error"),
        (delegate, {"contact_id": 2**31 - 1, "body": "Hello"}, 404, "not_found"),
        (delegate, {"contact_id": expert.id, "body": "x" * (MAX_BODY_BYTES + 1)}, 413, "too_large"),
        (delegate, {"contact_id": expert.id, "body": "  "}, 422, "validation_error"),
    ]
    for who, body, status, code in cases:
        refused = await api(who, "POST", "/api/contact-requests", body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), body
    assert await table_rows(server) == before

    first = await api(
        delegate, "POST", "/api/contact-requests", {"contact_id": expert.id, "body": "Hi"}
    )
    assert first.status_code == 201
    after_first = await table_rows(server)
    again = await api(
        delegate, "POST", "/api/contact-requests", {"contact_id": expert.id, "body": "Hi?"}
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "contact_request_pending")
    assert again.json()["error"]["message"] == (
        "A request between you and this person is already waiting for an answer."
    )
    assert await table_rows(server) == after_first

    declined = await api(
        expert, "POST", f"/api/contact-requests/{first.json()['id']}/decline", {"reason": "Away."}
    )
    assert declined.json()["status"] == "declined" and declined.json()["reason"] == "Away."
    twice = await api(expert, "POST", f"/api/contact-requests/{first.json()['id']}/accept")
    assert twice.status_code == 409
    # Declined, the pair may try again.
    retry = await api(
        delegate, "POST", "/api/contact-requests", {"contact_id": expert.id, "body": "Now?"}
    )
    assert retry.status_code == 201


async def test_a_refusal_in_french(server: LiveServer) -> None:
    member = await person(server, family="civil_society", role="member", group=C7_CAUCUS)
    delegate = await person(server, family="government")
    async with client(server, headers={"Authorization": f"Bearer {delegate.token}"}) as http:
        refused = await http.post(
            "/api/contact-requests",
            json={"contact_id": member.id, "body": "Bonjour"},
            headers={"Accept-Language": "fr"},
        )
    assert refused.json()["error"]["message"] == (
        "Cette personne n'est pas inscrite comme point de contact."
    )


async def test_a_conversation_is_followed_live_and_resumed(server: LiveServer) -> None:
    expert = await contact_point(server)
    delegate = await person(server, family="government")
    opened = await open_conversation(delegate, expert)
    request_id = opened["id"]
    url = f"/api/contact-requests/{request_id}/events"
    headers = {"Authorization": f"Bearer {delegate.token}"}
    async with client(server, headers=headers) as http:
        async with events(http, f"{url}?after=0") as stream:
            replayed = await stream.next()
            assert (replayed.event, replayed.id) == ("request", 1)
            assert replayed.data["request"]["status"] == "accepted"
            sent = await api(
                expert,
                "POST",
                f"/api/contact-requests/{request_id}/messages",
                {"body": "Live _one_"},
            )
            live = await stream.next()
            assert (live.event, live.id) == ("message", sent.json()["seq"])
            assert live.data["message"]["html"] == '<p dir="auto">Live <em>one</em></p>\n'
        for text in ("missed one", "missed two"):
            await api(
                expert, "POST", f"/api/contact-requests/{request_id}/messages", {"body": text}
            )
        async with events(http, url, last_event_id=live.id) as stream:
            got = [(await stream.next()).data["message"]["body"] for _ in range(2)]
    assert got == ["missed one", "missed two"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_messages_are_limited_like_posts(server: LiveServer) -> None:
    expert = await contact_point(server)
    delegate = await person(server, family="government")
    request_id = (await open_conversation(delegate, expert))["id"]
    path = f"/api/contact-requests/{request_id}/messages"
    big = await api(delegate, "POST", path, {"body": "é" * (MAX_BODY_BYTES // 2 + 1)})
    assert (big.status_code, big.json()["error"]["code"]) == (413, "too_large")
    limit = server.state["settings"].post_limit
    # The request counted as one.
    for n in range(limit - 1):
        assert (await api(delegate, "POST", path, {"body": f"message {n}"})).status_code == 201
    before = await table_rows(server)
    over = await api(delegate, "POST", path, {"body": "one too many"})
    assert (over.status_code, over.json()["error"]["code"]) == (429, "rate_limited")
    assert int(over.headers["retry-after"]) >= 1
    assert await table_rows(server) == before


async def test_a_conversation_stream_ends_with_its_session(server: LiveServer) -> None:
    expert = await contact_point(server)
    delegate = await person(server, family="government")
    request_id = (await open_conversation(delegate, expert))["id"]
    headers = {"Authorization": f"Bearer {delegate.token}"}
    async with client(server, headers=headers) as http:
        async with events(http, f"/api/contact-requests/{request_id}/events?after=0") as stream:
            assert (await stream.next()).event == "request"
            out = await http.post("/api/auth/logout")
            assert out.status_code == 204
            with pytest.raises(AssertionError, match="the stream ended"):
                await stream.next(wait=2)
        refused = await http.get(f"/api/contact-requests/{request_id}/events")
    assert refused.status_code == 401


async def test_a_conversation_stream_outlives_the_persons_other_sessions(
    server: LiveServer,
) -> None:
    """Signing out on another device ends that device's streams, not this one's, and
    the stream hears nothing else of what is said to the person's other sessions."""
    expert = await contact_point(server)
    delegate = await person(server, family="government")
    request_id = (await open_conversation(delegate, expert))["id"]
    headers = {"Authorization": f"Bearer {delegate.token}"}
    messages = f"/api/contact-requests/{request_id}/messages"
    url = f"/api/contact-requests/{request_id}/events?after=0"
    async with (
        client(server, headers=headers) as http,
        client(server) as other,
        events(http, url) as stream,
    ):
        assert (await stream.next()).event == "request"
        await other.login(delegate.user["email"])
        assert (await other.post("/api/auth/logout")).status_code == 204
        sent = await api(expert, "POST", messages, {"body": "Still here?"})
        live = await stream.next()
        assert (live.event, live.id) == ("message", sent.json()["seq"])
        assert len(memory_broker(server)._listeners[user_channel(delegate.user["id"])]) == 1
    # Closed by its reader, the stream stops listening for its session's end too.
    assert await listeners_left(server, user_channel(delegate.user["id"])) == 0
