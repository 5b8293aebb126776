"""No input makes a 500 (RELIABILITY row 19): every route of the app, walked from its
routes, gets ids no column can hold, NUL characters and unpaired surrogates in its
path, query, body or form, on SQLite and PostgreSQL. Each is refused with a clear
error, and nothing is written or published."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from forum.auth import CSRF_FIELD
from forum.db.cursors import encode_cursor
from forum.web.routes import API_ROUTERS
from tests.bad_input_support import (
    HUGE_IDS,
    PARAM,
    Forum,
    api_bodies,
    http_routes,
    make_forum,
    send,
    table_rows,
)
from tests.capture import EventCapture, Events
from tests.factory import GROUP
from tests.support import Client, LiveServer, registration

NUL_TEXT = ("a\x00b",)
SURROGATE_TEXT = ("\udfff",)
FORGED_CURSORS = [
    encode_cursor(*parts)
    for parts in (
        ("2005-11-16T09:00:00+00:00", str(2**63)),  # a board's, with an id too big
        ("2005-11-16T09:00:00", "1"),  # a board's, with a naive time
        ("2005-11-16T09:00:00+00:00\x00", "1"),
        ("0001\x00",),  # a thread's, with a NUL
    )
]
# Query parameters the pages read, besides those the API operations declare.
PAGE_QUERIES: dict[str, list[str]] = {
    "/threads/{thread_id:id}": ["at", "reply_to", "cursor"],
    "/action-lines/{code}": ["cursor"],
    "/search": ["q", "limit", "offset", "since"],
}


@pytest.fixture
async def forum(server: LiveServer, http: Client) -> Forum:
    return await make_forum(server, http)


@pytest.fixture
async def published(forum: Forum, capture_events: EventCapture) -> AsyncIterator[Events]:
    """What the broker carries on the room's, the board's and the thread's channels."""
    from forum.actions.room_reads import room_for
    from forum.db.discussions_queries import get_board_line

    async with forum.server.state["sessionmaker"]() as session:
        _group, room = await room_for(session, GROUP)
        line = await get_board_line(session, "C1")
    async with capture_events(
        forum.server,
        rooms=(room.id,),
        lines=(line.id,),
        threads=(int(forum.values["thread_id"]),),
        expected=None,
    ) as events:
        yield events


def refused(response: httpx.Response, *statuses: int) -> str | None:
    """What is wrong with a refusal, or None: a 4xx (one of `statuses` if given) with
    `{"error": {"code", "message"}}`, or an HTML error page for a page."""
    status = response.status_code
    if not 400 <= status < 500 or (statuses and status not in statuses):
        return f"status {status}"
    if response.headers.get("content-type", "").startswith("application/json"):
        error = response.json().get("error", {})
        if not error.get("code") or not error.get("message"):
            return f"body {response.text[:200]}"
    return None


def json_body(value: Any) -> dict[str, Any]:
    # Escaped, so that a lone surrogate travels as JSON text rather than as bad UTF-8.
    return {
        "content": json.dumps(value, ensure_ascii=True).encode(),
        "headers": {"content-type": "application/json"},
    }


def valid_bodies(forum: Forum) -> dict[str, dict[str, Any]]:
    """A body each JSON operation would accept, by model name."""
    return {
        "RegisterBody": registration(),
        "LoginBody": {"email": "someone@example.org", "password": "correct horse battery"},
        "JoinBody": {"role": "observer"},
        "RoleBody": {"role": "member"},
        "ScheduleBody": {
            "title": "Sitting",
            "agenda": "1. Opening",
            "starts_at": "2005-11-16T09:00:00+01:00",
            "ends_at": "2005-11-16T12:00:00+01:00",
        },
        "ObserverSeatsBody": {"observer_seats": {"civil_society": 1}},
        "BudgetsBody": {"budgets": {"government": 600}},
        "OpenThreadBody": {"title": "A title", "body": "A body", "group": GROUP},
        "ReplyBody": {
            "body": "A reply",
            "parent_id": int(forum.values["post_id"]),
            "group": GROUP,
        },
        "EditBody": {"body": "An edit"},
        "LockBody": {"locked": True},
        "CosignBody": {"group": GROUP},
        "PreviewBody": {"body": "A preview"},
        "ProfileBody": {"display_name": "A name", "language": "fr", "time_zone": "Asia/Tokyo"},
        "PasswordBody": {"current_password": "correct horse battery", "password": "x" * 12},
        "FamilyBody": {"family": "private_sector"},
        "DecisionBody": {"decision": "refuse"},
        "GroupEditBody": {"name": "A group", "region": "africa", "action_lines": ["C1"]},
        "GroupCreateBody": {
            "slug": "a-group",
            "name": "A group",
            "kind": "caucus",
            "family": "civil_society",
            "action_lines": ["C1"],
        },
        "ActionLineEditBody": {"title": "A title", "facilitators": ["ITU"]},
        "BriefingBody": {
            "title": "A briefing",
            "starts_at": "2030-11-16T09:00:00+01:00",
            "ends_at": "2030-11-16T10:00:00+01:00",
            "invitees": [forum.chair.id],
        },
        "ConsultationBody": {
            "host": GROUP,
            "guest": "financing-caucus",
            "basis": "issue",
            "title": "A consultation",
            "purpose": "A purpose",
            "format": "statements",
            "starts_at": "2030-11-16T09:00:00+01:00",
            "minutes": 60,
            "seats_per_side": 2,
        },
        "AnswerBody": {
            "answer": "counter",
            "starts_at": "2030-11-17T09:00:00+01:00",
            "minutes": 60,
        },
        "DelegationBody": {"delegates": [forum.chair.id]},
        "OutcomeBody": {"summary": "An outcome"},
        "AccessWindowBody": {
            "minutes_before_end": 15,
            "length_minutes": 15,
            "families": ["government"],
        },
        "ObserverRequestBody": {"caucus": "africa-caucus"},
        "ObserverDecisionBody": {"approve": False, "reason": "No room"},
        "MinutesBody": {"body": "Agreed.", "version": 1},
        "FollowUpBody": {"item": "A study", "owner": GROUP, "due": "2005-12-01", "version": 1},
        "ContactEntryBody": {"expertise": "Spectrum", "languages": ["English"], "region": "africa"},
        "ContactRequestBody": {"contact_id": int(forum.values["user_id"]), "body": "Hello"},
        "ContactAnswerBody": {"reason": "Away"},
        "ContactMessageBody": {"body": "A message"},
    }


def spoiled(value: Any) -> list[Any]:
    """Copies of a JSON value with one leaf made bad: a huge id or a text no column
    takes (NUL, an unpaired surrogate), in keys too."""
    if isinstance(value, bool):
        return [2**63]
    if isinstance(value, int):
        return list(HUGE_IDS)
    if isinstance(value, str):
        return [*NUL_TEXT, *SURROGATE_TEXT, 2**63]
    if isinstance(value, dict):
        out: list[Any] = []
        for key, item in value.items():
            out.extend({**value, key: bad} for bad in spoiled(item))
            rest = {k: v for k, v in value.items() if k != key}
            out.extend({**rest, f"{key}{bad}": item} for bad in ("\x00", "\ud800"))
        return out
    return []


async def path_failures(forum: Forum) -> list[str]:
    """Every path parameter: ids no row has, and ids that are not numbers, are 404 (the
    route does not match), a NUL is a 400."""
    failures = []
    for method, template in http_routes(forum.server):
        for name in PARAM.findall(template):
            is_id = name.endswith("_id")
            bad = [*map(str, HUGE_IDS), "12abc", "-1", "1.5"] if is_id else []
            for value in [*bad, "a%00b"]:
                url = forum.path(template, **{name: value})
                response = await send(forum.http, method, url)
                expect = (400, 404) if value == "a%00b" else (404,)
                if problem := refused(response, *expect):
                    failures.append(f"{method} {url}: {problem}")
    return failures


async def query_failures(forum: Forum) -> list[str]:
    """Every GET route: a NUL in its query is a 400; a huge number or a forged cursor
    in any parameter it reads is no 500."""
    queries = {op.path: [n for n, _ in op.query] for r in API_ROUTERS for op in r.operations}
    queries.update(PAGE_QUERIES)
    routes = {template for method, template in http_routes(forum.server) if method == "GET"}
    assert {path for path, names in queries.items() if names} <= routes, "a query of no route"
    failures = []
    for method, template in http_routes(forum.server):
        if method != "GET":
            continue
        base = forum.path(template)
        # A NUL anywhere in the query is refused, named or not.
        response = await send(forum.http, "GET", base + "?q=a%00b&x=%00")
        if problem := refused(response, 400):
            failures.append(f"GET {base} NUL: {problem}")
        for name in queries.get(template, []):
            values = [*map(str, HUGE_IDS), *FORGED_CURSORS] if name == "cursor" else HUGE_IDS
            for value in values:
                response = await send(forum.http, "GET", f"{base}?q=x&{name}={value}")
                if response.status_code >= 500:
                    failures.append(f"GET {base}?{name}={value}: {response.status_code}")
    return failures


async def body_failures(forum: Forum) -> list[str]:
    """Every JSON body, one bad leaf at a time: a 4xx naming it."""
    bodies = valid_bodies(forum)
    failures = []
    for (method, template), model in api_bodies().items():
        url = forum.path(template)
        for body in spoiled(bodies[model.__name__]):
            response = await send(forum.http, method, url, **json_body(body))
            if problem := refused(response, 400, 422, 413):
                failures.append(f"{method} {url} {body!r}: {problem}")
    return failures


FORM_FIELDS = (
    "email",
    "password",
    "display_name",
    "family",
    "organization",
    "country",
    "title",
    "body",
    "group",
    "parent_id",
    "locked",
)


async def form_failures(forum: Forum) -> list[str]:
    """Every form: a NUL in any field, a huge parent id, a CSRF token outside ASCII."""
    csrf = forum.http.csrf or ""
    failures = []
    for method, template in http_routes(forum.server):
        if method != "POST" or template.startswith("/api/"):
            continue
        url = forum.path(template)
        forms: list[dict[str, str]] = [
            {**registration(), "title": "t", "body": "b", CSRF_FIELD: csrf, name: "a\x00b"}
            for name in FORM_FIELDS
        ]
        forms.append({**registration(), CSRF_FIELD: "é" * 43})
        forms.append({**registration(), "parent_id": str(2**63), CSRF_FIELD: "x"})
        for form in forms:
            response = await send(forum.http, "POST", url, data=form)
            if problem := refused(response, 400, 403, 422):
                failures.append(f"POST {url} {form}: {problem}")
    # The API's header: a token outside ASCII is a wrong token.
    response = await send(
        forum.http,
        "POST",
        "/api/groups/wgig/join",
        headers={"x-csrf-token": "é".encode(), "content-type": "application/json"},
        content=b"{}",
    )
    if problem := refused(response, 403):
        failures.append(f"non-ASCII X-CSRF-Token: {problem}")
    return failures


async def head_failures(forum: Forum) -> list[str]:
    """HEAD is GET without the body (a safe method: no CSRF), on every GET route."""
    failures = []
    for method, template in http_routes(forum.server):
        if method != "GET":
            continue
        url = forum.path(template)
        get = await send(forum.http, "GET", url)
        head = await send(forum.http, "HEAD", url)
        if head.status_code != get.status_code or head.content:
            failures.append(f"HEAD {url}: {head.status_code} (GET {get.status_code})")
    return failures


# Every route and body of the forum, one bad leaf at a time, in five parts that run
# side by side (with -n) and each keep well inside the suite's limit on a loaded
# machine; all of them together took some 45 s of one.
FAILURES = {
    "head": head_failures,
    "path": path_failures,
    "query": query_failures,
    "body": body_failures,
    "form": form_failures,
}


@pytest.mark.parametrize("part", list(FAILURES))
async def test_no_input_makes_a_500(forum: Forum, published: Events, part: str) -> None:
    before = await table_rows(forum.server)
    failures = await FAILURES[part](forum)
    assert not failures, "\n".join(failures)
    assert await table_rows(forum.server) == before
    assert published.messages == []


async def test_frames_with_huge_ids_nul_or_surrogates_get_error_frames(
    forum: Forum, published: Events
) -> None:
    from tests.rooms_support import peer, schedule_and_open

    await schedule_and_open(forum.chair)
    async with peer(forum.server, forum.chair) as chair:
        joined = await chair.join("participant")
        assert joined["type"] == "joined", joined
        before = await table_rows(forum.server)
        published.messages.clear()
        frames: list[dict[str, Any]] = [
            {"type": "give_floor", "user_id": 2**31},
            {"type": "give_floor", "user_id": 2**63},
            {"type": "move", "user_id": 10**30, "position": 0},
            {"type": "lower_hand", "user_id": 2**31},
            {"type": "join", "room": GROUP, "seat": "participant", "since": 2**31},
            {"type": "join", "room": "wgig\x00", "seat": "participant"},
            {"type": "join", "room": "\ud800", "seat": "participant"},
            {"type": "speak", "body": "a\x00b"},
            {"type": "speak", "body": "a\ud800b"},
            {"type": "set_policy", "policy": "fifo\x00"},
            {"type": "ping", "ref\x00": 1},
            {"type": "ping", "\udfff": 1},
        ]
        for frame in frames:
            answer = await chair.call(frame)
            assert answer["type"] == "error" and answer["code"] == "validation_error", (
                frame,
                answer,
            )
            assert (await chair.call({"type": "ping"}))["type"] == "pong"
        # A ref that cannot be sent back is not echoed.
        await chair.ws.send(json.dumps({"type": "ping", "ref": "\ud800"}))
        answer = await chair.expect("error")
        assert answer["code"] == "validation_error" and "ref" not in answer
        assert (await chair.call({"type": "ping"}))["type"] == "pong"
        assert await table_rows(forum.server) == before
        assert [m for m in published.messages if m[1].get("type") != "presence"] == []
