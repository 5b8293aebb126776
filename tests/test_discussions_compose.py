"""Writing a post from the pages: the preview is the HTML the post will store (made by
the same renderer), shown without JavaScript by the form itself and with it by
/api/preview, which writes nothing and is bounded; refusals sit beside their fields
with the text kept; the edit form is offered only where the edit is allowed. On
SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from forum.settings import Settings
from forum.text import render_markdown
from tests.discussions_support import open_thread, snapshot
from tests.people import set_role, signed_in
from tests.support import Client, LiveServer, client, make_settings, token_in

PREVIEW_LIMIT = 4
BODY = "Open *all* day, [see](https://example.org) <script>alert(1)</script>\n\n# Hours"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path).with_(preview_limit=PREVIEW_LIMIT)


def _preview(page: str) -> str:
    match = re.search(
        r'<section class="preview"[^>]*>.*?<div class="body" dir="auto">(.*?)</div></div>'
        r"\s*</section>",
        page,
        re.S,
    )
    assert match, "no preview region"
    return match.group(1)


def _textarea(page: str) -> str:
    match = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert match
    return html.unescape(match.group(1))


async def test_the_forms_preview_without_javascript_is_what_is_stored(
    server: LiveServer, http: Client
) -> None:
    await http.signup()
    token = token_in((await http.get("/action-lines/C3")).text)
    before = await snapshot(server)
    shown = await http.post(
        "/action-lines/C3",
        data={"csrf_token": token, "title": "Libraries", "body": BODY, "preview": "1"},
    )
    assert shown.status_code == 200
    assert await snapshot(server) == before  # a preview writes nothing
    preview = _preview(shown.text)
    assert "<em>all</em>" in preview and "<script>" not in preview
    assert _textarea(shown.text) == BODY and 'value="Libraries"' in shown.text

    opened = await http.post(
        "/action-lines/C3", data={"csrf_token": token, "title": "Libraries", "body": BODY}
    )
    assert opened.status_code == 303
    thread_id = int(opened.headers["location"].rsplit("/", 1)[1])
    stored = (await http.get(f"/api/threads/{thread_id}")).json()["posts"][0]
    assert preview == stored["html"] == render_markdown(BODY)

    # The reply form and the edit form preview the same way.
    reply_body = "Also **Sundays**."
    shown = await http.post(
        f"/threads/{thread_id}", data={"csrf_token": token, "body": reply_body, "preview": "1"}
    )
    assert shown.status_code == 200 and _textarea(shown.text) == reply_body
    assert _preview(shown.text) == render_markdown(reply_body)
    post_id = stored["id"]
    edited = "Open *every* day"
    shown = await http.post(
        f"/posts/{post_id}/edit", data={"csrf_token": token, "body": edited, "preview": "1"}
    )
    assert shown.status_code == 200 and _textarea(shown.text) == edited
    assert _preview(shown.text) == render_markdown(edited)
    assert (await http.get(f"/api/posts/{post_id}")).json()["body"] == BODY  # not saved

    # A body the post would refuse is refused in the preview, beside the box.
    blank = await http.post(
        f"/threads/{thread_id}", data={"csrf_token": token, "body": "   ", "preview": "1"}
    )
    assert blank.status_code == 422
    assert 'id="body-error"' in blank.text and 'aria-describedby="body-error"' in blank.text


async def test_the_preview_endpoint_is_bounded_and_writes_nothing(
    server: LiveServer, http: Client
) -> None:
    async with client(server) as anonymous:
        assert (await anonymous.post("/api/preview", json={"body": "x"})).status_code == 401
    await http.signup()
    before = await snapshot(server)
    answered = await http.post("/api/preview", json={"body": BODY})
    assert answered.status_code == 200
    assert answered.json() == {"html": render_markdown(BODY)}
    # A cookie without the session's CSRF header is another site's request.
    forged = await http.post("/api/preview", json={"body": BODY}, headers={"X-CSRF-Token": "x"})
    assert forged.status_code == 403
    blank = await http.post("/api/preview", json={"body": " "})
    assert blank.status_code == 422 and blank.json()["error"]["field"] == "body"
    huge = await http.post("/api/preview", json={"body": "a" * (64 * 1024 + 1)})
    assert huge.status_code == 413
    # Refused bodies counted nothing: the limit still has its places.
    for _ in range(PREVIEW_LIMIT - 1):
        assert (await http.post("/api/preview", json={"body": "ok"})).status_code == 200
    limited = await http.post("/api/preview", json={"body": "ok"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert await snapshot(server) == before

    spec = (await http.get("/openapi.json")).json()["paths"]
    assert "post" in spec["/api/preview"]
    assert "delete" in spec["/api/posts/{post_id}/cosignatures/{slug}"]


async def test_refusals_sit_beside_their_fields_with_the_text_kept(
    server: LiveServer, http: Client
) -> None:
    me = await http.signup()
    token = token_in((await http.get("/action-lines/C3")).text)
    refused = await http.post(
        "/action-lines/C3", data={"csrf_token": token, "title": "  ", "body": "Kept body"}
    )
    assert refused.status_code == 422
    assert re.search(
        r'<span class="field-error" id="title-error">[^<]+</span><input id="title"', refused.text
    )
    assert 'aria-describedby="title-error" aria-invalid="true"' in refused.text
    assert _textarea(refused.text) == "Kept body"
    assert '<a href="#title">' in refused.text  # the summary links to the field

    async with client(server) as visitor:
        page = await visitor.get("/login")
        wrong = await visitor.post(
            "/login",
            data={"csrf_token": token_in(page.text), "email": me["email"], "password": "not it"},
        )
    assert wrong.status_code == 401
    assert re.search(
        r'<span class="field-error" id="password-error">[^<]+</span><input id="password"',
        wrong.text,
    )
    assert 'aria-describedby="password-error" aria-invalid="true"' in wrong.text
    assert f'value="{me["email"]}"' in wrong.text


async def test_the_edit_form_is_offered_only_where_the_edit_is_allowed(
    server: LiveServer, http: Client
) -> None:
    await http.signup()
    created = await open_thread(http)
    post_id, thread_id = created["post"]["id"], created["thread"]["id"]
    assert (await http.get(f"/posts/{post_id}/edit")).status_code == 200
    async with client(server) as stranger:
        await stranger.signup()
        assert (await stranger.get(f"/posts/{post_id}/edit")).status_code == 403
        page = await stranger.get(f"/threads/{thread_id}")
        assert f"/posts/{post_id}/edit" not in page.text
    async with signed_in(server) as chair:
        assert chair.user
        await set_role(server, "human-rights-caucus", chair.user["id"], "chair")
        locked = await chair.put(f"/api/threads/{thread_id}/lock", json={"locked": True})
        assert locked.status_code == 200
    # The author of a post in a locked thread is offered no edit, and the form says why.
    page = await http.get(f"/threads/{thread_id}")
    assert f"/posts/{post_id}/edit" not in page.text
    assert (await http.get(f"/posts/{post_id}/edit")).status_code == 423
