"""Pages, API errors and WebSocket error frames in the reader's language: the profile's,
else the switcher's cookie, else Accept-Language, else English."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from babel.messages.pofile import read_po
from sqlalchemy import select, update
from websockets.asyncio.client import connect

from forum.db.models import User
from forum.i18n.catalogs import po_path
from forum.i18n.negotiate import from_accept_language, parse_accept_language
from forum.i18n.reader import Reader
from tests.discussions_support import open_thread
from tests.people import signed_in
from tests.support import LiveServer, client


def test_accept_language_is_read_by_quality_and_bounded() -> None:
    assert parse_accept_language("es;q=0.5, fr-CH, fr;q=0.9, *;q=0.1") == ["fr-CH", "fr", "es"]
    assert from_accept_language("de-DE, fr-CA;q=0.8, es;q=0.7") == "fr"
    assert from_accept_language("de, ja") is None
    assert from_accept_language("fr;q=0, es;q=0.2") == "es"
    # Garbage is skipped, never an error.
    assert from_accept_language("fr;q=abc, <script>, es") == "es"
    assert from_accept_language("x" * 100_000) is None


def test_dates_and_numbers_follow_the_locale_and_time_zone() -> None:
    moment = datetime(2026, 12, 1, 10, 5, tzinfo=UTC)
    assert Reader.of("en").datetime(moment) == "Dec 1, 2026, 10:05\u202fAM UTC"
    assert Reader.of("fr", "Africa/Nairobi").datetime(moment) == "1 déc. 2026, 13:05 +0300"
    assert Reader.of("es", "America/Bogota").date(moment) == "1 dic 2026"
    assert Reader.of("es").time("2026-12-01T10:05:07") == "10:05:07"
    assert Reader.of("fr").number(12345) == "12\u202f345"
    # An unknown zone or language is not an error: English, UTC.
    assert Reader.of("xx", "Mars/Olympus") == Reader("en", None)


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        self.texts.extend(v or "" for n, v in attrs if n in {"title", "aria-label"})

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def _english_only(language: str) -> set[str]:
    """Msgids without placeholders whose translation into `language` differs."""
    with po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {
        m.id
        for m in catalog
        if isinstance(m.id, str) and m.id and m.string != m.id and not re.search(r"[%{]", m.id)
    }


def _lang(page: str) -> str:
    found = re.search(r'<html lang="(\w+)"', page)
    assert found, page[:200]
    return found.group(1)


async def test_a_page_asked_for_in_french_is_in_french(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        page = await http.get("/", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"})
    assert page.status_code == 200
    assert _lang(page.text) == "fr"
    assert page.headers["content-language"] == "fr"
    assert "Accept-Language" in page.headers["vary"]
    for french in ("Grandes orientations", "Thèmes transversaux", "Se connecter", "Langue"):
        assert french in page.text
    # The page's scripts get their words in French too.
    data = re.search(r'<script type="application/json" id="forum-i18n">(.*?)</script>', page.text)
    assert data is not None
    catalog = json.loads(data.group(1))
    assert catalog["language"] == "fr" and catalog["messages"]["New post by {name}."] == (
        "Nouveau message de {name}."
    )


async def test_no_english_interface_text_on_french_pages(sqlite_server: LiveServer) -> None:
    english = _english_only("fr")
    async with signed_in(sqlite_server) as author, client(sqlite_server) as http:
        created = await open_thread(author, code="C3")
        pages = [
            "/",
            "/groups",
            "/groups/africa-caucus",
            "/action-lines/C3",
            "/action-lines/C3/positions",
            f"/threads/{created['thread']['id']}",
            f"/posts/{created['post']['id']}/revisions",
            "/search?q=Libraries",
            "/login",
            "/register",
            "/nowhere",
        ]
        for url in pages:
            page = await http.get(url, headers={"Accept-Language": "fr", "Accept": "text/html"})
            assert _lang(page.text) == "fr", url
            parser = _Visible()
            parser.feed(page.text)
            assert set(parser.texts) & english == set(), url
        register = await http.get("/register", headers={"Accept-Language": "fr"})
    # Countries by their French names.
    assert ">Côte d’Ivoire</option>" in register.text or ">Allemagne</option>" in register.text


async def test_english_without_a_preference(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        page = await http.get("/groups", headers={"Accept-Language": "de, ja"})
    assert _lang(page.text) == "en" and ">Groups</h1>" in page.text


async def test_the_switcher_cookie_overrides_accept_language(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        chosen = await http.post(
            "/language",
            data={"language": "es", "next": "/groups?x=1"},
            headers={"Origin": sqlite_server.origin},
        )
        assert chosen.status_code == 303 and chosen.headers["location"] == "/groups?x=1"
        assert http.cookies["forum_lang"] == "es"
        page = await http.get("/groups", headers={"Accept-Language": "fr"})
    assert _lang(page.text) == "es" and ">Grupos</h1>" in page.text
    assert '<option value="es" lang="es" selected>Español</option>' in page.text


async def test_the_switcher_refuses_what_it_cannot_honour(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        unknown = await http.post(
            "/language", data={"language": "xx"}, headers={"Accept-Language": "es"}
        )
        assert unknown.status_code == 422
        assert unknown.json()["error"]["code"] == "validation_error"
        assert unknown.json()["error"]["message"] == "Elija uno de los idiomas disponibles."
        cross_site = await http.post(
            "/language", data={"language": "fr"}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert cross_site.status_code == 403
        assert cross_site.json()["error"]["code"] == "csrf_failed"
        bad_zone = await http.post("/language", data={"language": "fr", "time_zone": "Mars/X"})
        assert bad_zone.status_code == 422 and bad_zone.json()["error"]["field"] == "time_zone"
        assert "forum_lang" not in http.cookies
        # Back to this site only, whatever `next` says.
        away = await http.post("/language", data={"language": "fr", "next": "//evil.example/"})
        assert away.headers["location"] == "/"


async def _profile(server: LiveServer, user_id: int) -> tuple[str | None, str | None]:
    async with server.state["sessionmaker"]() as session:
        row = (
            await session.execute(select(User.language, User.time_zone).where(User.id == user_id))
        ).one()
    return row.language, row.time_zone


async def test_the_profile_overrides_cookie_and_accept_language(server: LiveServer) -> None:
    async with client(server) as http:
        await http.signup()
        assert http.user is not None
        user_id = int(http.user["id"])
        # A signed-in switch writes the profile, and checks the form's token.
        refused = await http.post("/language", data={"language": "fr"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
        assert await _profile(server, user_id) == (None, None)
        unknown = await http.post(
            "/language",
            data={"language": "de", "time_zone": "Europe/Berlin", "csrf_token": http.csrf},
        )
        assert unknown.status_code == 422
        assert unknown.json()["error"]["code"] == "validation_error"
        assert await _profile(server, user_id) == (None, None)
        saved = await http.post(
            "/language",
            data={"language": "fr", "time_zone": "Africa/Nairobi", "csrf_token": http.csrf},
        )
        assert saved.status_code == 303, saved.text
        assert await _profile(server, user_id) == ("fr", "Africa/Nairobi")

        http.cookies.set("forum_lang", "es")
        page = await http.get("/", headers={"Accept-Language": "es"})
        assert _lang(page.text) == "fr" and "Grandes orientations" in page.text
        assert 'data-time-zone="Africa/Nairobi"' in page.text
        error = await http.get("/api/threads/999999", headers={"Accept-Language": "es"})
        assert error.json()["error"]["message"] == "Ce fil de discussion est introuvable."


async def test_api_errors_are_in_the_readers_language(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        missing = await http.get("/api/threads/999999", headers={"Accept-Language": "es"})
        assert missing.status_code == 404
        assert missing.json()["error"] == {
            "code": "not_found",
            "message": "No se encuentra este hilo de debate.",
        }
        assert missing.headers["content-language"] == "es"
        # Placeholders are filled after the translation.
        bad = await http.get(
            "/api/action-lines/C1/threads?limit=many", headers={"Accept-Language": "es"}
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["message"] == "«limit» debe ser un número entero."
        # A value that is itself interface text is translated with its sentence.
        nul = await http.post(
            "/api/accounts",
            content=b'{"display_name": "A\\u0000B"}',
            headers={"Accept-Language": "fr", "Content-Type": "application/json"},
        )
        assert nul.status_code == 422
        assert nul.json()["error"]["message"] == (
            "Le champ «\u00a0display_name\u00a0» contient un caractère NUL (U+0000)."
        )
        english = await http.get("/api/threads/999999")
        assert english.json()["error"]["message"] == "No such thread."
        no_route = await http.get("/api/nowhere", headers={"Accept-Language": "fr"})
        assert no_route.json()["error"]["message"] == "Page introuvable."


async def test_a_refused_form_says_why_in_the_readers_language(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        form = await http.get("/login", headers={"Accept-Language": "es"})
        found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert found is not None
        token = found.group(1)
        page = await http.post(
            "/login",
            data={"email": "nobody@example.org", "password": "wrong one", "csrf_token": token},
            headers={"Accept-Language": "es", "Origin": sqlite_server.origin},
        )
    assert page.status_code == 401
    assert "Correo electrónico o contraseña incorrectos." in page.text


async def test_a_shared_thread_page_is_kept_per_language(sqlite_server: LiveServer) -> None:
    async with signed_in(sqlite_server) as author, client(sqlite_server) as reader:
        created = await open_thread(author)
        url = f"/threads/{created['thread']['id']}"
        french = await reader.get(url, headers={"Accept-Language": "fr"})
        english = await reader.get(url, headers={"Accept-Language": "en"})
        again = await reader.get(url, headers={"Accept-Language": "fr"})
    assert _lang(french.text) == "fr" and "pour répondre" in french.text
    assert _lang(english.text) == "en" and "to reply." in english.text
    assert again.text == french.text
    assert french.headers["etag"] != english.headers["etag"]
    assert "Accept-Language" in english.headers["vary"]


async def _error_frame(server: LiveServer, headers: dict[str, Any]) -> dict[str, Any]:
    async with connect(
        server.ws_url + "/ws", additional_headers={"Origin": server.origin, **headers}
    ) as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello"
        await ws.send("not json")
        frame: dict[str, Any] = json.loads(await ws.recv())
        # The connection stays: a refused frame is only an answer.
        await ws.send(json.dumps({"type": "ping", "ref": 1}))
        assert json.loads(await ws.recv())["type"] in {"pong", "error", "ack"}
    return frame


async def test_websocket_error_frames_are_in_the_connections_language(
    sqlite_server: LiveServer,
) -> None:
    frame = await _error_frame(sqlite_server, {"Accept-Language": "es"})
    assert frame["type"] == "error" and frame["code"] == "invalid_json"
    assert frame["message"] == "La trama no es JSON válido."
    frame = await _error_frame(sqlite_server, {"Cookie": "forum_lang=fr"})
    assert frame["message"] == "La trame n'est pas du JSON valide."
    async with signed_in(sqlite_server) as someone:
        assert someone.user is not None
        async with sqlite_server.state["sessionmaker"]() as session, session.begin():
            await session.execute(
                update(User).where(User.id == someone.user["id"]).values(language="fr")
            )
        bearer = someone.headers["Authorization"]
    frame = await _error_frame(sqlite_server, {"Authorization": bearer, "Accept-Language": "es"})
    assert frame["message"] == "La trame n'est pas du JSON valide."


async def test_feeds_speak_their_readers_language(sqlite_server: LiveServer) -> None:
    async with signed_in(sqlite_server) as author, client(sqlite_server) as reader:
        created = await open_thread(author, code="C4")
        await author.post(f"/api/threads/{created['thread']['id']}/posts", json={"body": "Oui."})
        feed = await reader.get("/action-lines/C4/feed.atom", headers={"Accept-Language": "es"})
    assert feed.status_code == 200 and feed.headers["content-language"] == "es"
    assert 'xml:lang="es"' in feed.text
    assert "Todos los mensajes del debate sobre C4 en Agora" in feed.text
    assert f"<title>Re: {created['thread']['title']}</title>" in feed.text


async def test_signed_in_readers_see_post_heads_in_their_own_language(
    sqlite_server: LiveServer,
) -> None:
    async with (
        signed_in(sqlite_server) as author,
        signed_in(sqlite_server) as french,
        signed_in(sqlite_server) as english,
    ):
        created = await open_thread(author)
        assert french.user is not None
        async with sqlite_server.state["sessionmaker"]() as session, session.begin():
            await session.execute(
                update(User).where(User.id == french.user["id"]).values(language="fr")
            )
        url = f"/threads/{created['thread']['id']}"
        # The same rows, read one after the other: each reader's heads in their language.
        seen_in_french = (await french.get(url)).text
        seen_in_english = (await english.get(url)).text
    head = re.compile(r'<span class="muted">· <bdi>[^<]*</bdi> · ([^<]*)</span>')
    assert head.findall(seen_in_french) == ["Société civile"]
    assert head.findall(seen_in_english) == ["Civil society"]


async def test_the_live_room_and_its_script_speak_french(sqlite_server: LiveServer) -> None:
    from tests.factory import GROUP

    async with client(sqlite_server) as http:
        page = await http.get(f"/groups/{GROUP}/room", headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and _lang(page.text) == "fr"
    assert "Salle en direct" in page.text and "Personne n'a la parole." in page.text
    parser = _Visible()
    parser.feed(page.text)
    assert set(parser.texts) & _english_only("fr") == set()
    found = re.search(r'<script type="application/json" id="room-text">(.*?)</script>', page.text)
    assert found is not None
    text = json.loads(found.group(1))
    assert text["connecting"] == "Connexion…"
    assert text["spectators"]["one"] == "{count} personne suit sans être connectée"
    assert text["spectators"]["many"].startswith("{count} de personnes")
    assert text["seats"]["remote"] == "à distance"
