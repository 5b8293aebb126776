"""The API document is the API: a bounded schemathesis run against a real server, signed
out and signed in, on SQLite and PostgreSQL, finds no 500 and no answer that
`/openapi.json` does not describe (status code, content type, headers, body)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from forum.limits import MemoryRateLimiter
from forum.settings import Settings
from tests.contacts_support import contact_point, open_conversation
from tests.factory import GROUP
from tests.openapi_support import run_conformance
from tests.people import api, person
from tests.support import LiveServer, live_server

# About 330 requests a backend, some 11 s of CPU; a machine shared by several test runs
# has stretched that to 55 s of wall time, near the suite's default limit.
pytestmark = pytest.mark.timeout(120)

# Run last: they take the chair's role, then the session, away from the other cases.
LAST = (
    "POST /api/groups/{slug}/leave",
    "DELETE /api/groups/{slug}/members/{user_id}",
    "POST /api/auth/logout",
    "POST /api/auth/logout-everywhere",
)


@pytest.fixture
async def fuzzed(settings: Settings, limiter: MemoryRateLimiter) -> AsyncIterator[LiveServer]:
    # Event streams end almost at once, so that a generated request to one is answered.
    quick = settings.with_(extra={**settings.extra, "sse_lifetime_s": 0.05})
    async with live_server(quick, limiter=limiter) as live:
        yield live


async def real_objects(server: LiveServer) -> tuple[str, dict[str, Any]]:
    """A chair's bearer token, and the ids of a real thread, post, session and person."""
    chair = await person(server, role="chair", group=GROUP)
    opened = await api(
        chair, "POST", "/api/action-lines/C2/threads", {"title": "Backbones", "body": "Fibre."}
    )
    assert opened.status_code == 201, opened.text
    thread = opened.json()["thread"]["id"]
    reply = await api(chair, "POST", f"/api/threads/{thread}/posts", {"body": "Yes."})
    assert reply.status_code == 201, reply.text
    scheduled = await api(
        chair,
        "POST",
        f"/api/rooms/{GROUP}/sessions",
        {
            "title": "Financing",
            "starts_at": "2030-01-01T09:00:00Z",
            "ends_at": "2030-01-01T10:00:00Z",
        },
    )
    assert scheduled.status_code == 201, scheduled.text
    session = scheduled.json()["id"]
    for step in ("open", "close"):
        done = await api(chair, "POST", f"/api/rooms/{GROUP}/sessions/{session}/{step}")
        assert done.status_code == 200, done.text
    asked = await api(chair, "POST", "/api/me/family-request", {"family": "private_sector"})
    assert asked.status_code == 201, asked.text
    # A conversation the chair (a government delegate) holds with a contact point.
    talk = await open_conversation(chair, await contact_point(server))
    said = await api(chair, "POST", f"/api/contact-requests/{talk['id']}/messages", {"body": "Hi"})
    assert said.status_code == 201, said.text
    known = {
        "contact_request_id": talk["id"],
        "request_id": asked.json()["id"],
        "code": "C2",
        "slug": GROUP,
        "thread_id": thread,
        "post_id": reply.json()["id"],
        "session_id": session,
        "user_id": chair.id,
    }
    return chair.token, known


async def test_every_answer_is_documented(fuzzed: LiveServer) -> None:
    token, known = await real_objects(fuzzed)
    signed_out = await asyncio.to_thread(run_conformance, fuzzed.url, known=known)
    signed_in = await asyncio.to_thread(
        run_conformance,
        fuzzed.url,
        token=token,
        known=known,
        last=LAST,
    )
    found = {f"signed out, {k}": v for k, v in signed_out.failures.items()}
    found |= {f"signed in, {k}": v for k, v in signed_in.failures.items()}
    assert not found, f"{len(found)} mismatches\n" + "\n\n".join(
        f"== {key}\n{text}" for key, text in sorted(found.items())
    )
    for report in (signed_out, signed_in):
        assert report.cases > 100, report.cases
    # Signed in, the chair's token opens what needs an account, and those bodies are checked.
    answered = {label for label, statuses in signed_in.answers.items() if min(statuses) < 300}
    assert {
        "GET /api/me",
        "GET /api/rooms/{slug}",
        "GET /api/contact-requests/{contact_request_id}",
    } <= answered, signed_in.answers
